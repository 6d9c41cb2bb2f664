"""Sends OpenLineage events with the real openlineage-python client to a running govgraph
server (POST /api/v1/lineage, as Marquez takes them), then checks through the REST API and
SPARQL that the run history, schema, column lineage, SQL-derived lineage, ownership,
documentation, tags and data-quality facets arrived. Exits non-zero on the first failed check.

usage: openlineage_client.py BASE_URL ENGINEER_KEY ANALYST_KEY
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import DatasetEvent, InputDataset, Job, JobEvent, OutputDataset, Run, RunEvent, RunState, StaticDataset
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    data_quality_assertions_dataset,
    data_quality_metrics_input_dataset,
    datasource_dataset,
    documentation_dataset,
    documentation_job,
    error_message_run,
    ownership_dataset,
    ownership_job,
    schema_dataset,
    sql_job,
    tags_dataset,
)
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

base, engineer_key, analyst_key = sys.argv[1:4]
PRODUCER = "https://github.com/govgraph/govgraph/tests/clients"
NS = "postgres://warehouse:5432"
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1
    print(f"ok   {what}")


def client(key):
    config = HttpConfig(url=base, endpoint="api/v1/lineage", timeout=10, auth=ApiKeyTokenProvider({"apiKey": key}))
    return OpenLineageClient(transport=HttpTransport(config))


def get(path, key=analyst_key):
    request = urllib.request.Request(base + path, headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)


def sparql(query):
    data = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(
        base + "/sparql", data=data, headers={"X-API-Key": analyst_key, "Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return [{k: v["value"] for k, v in row.items()} for row in json.load(r)["results"]["bindings"]]


def field(name, type_, description=None):
    return schema_dataset.SchemaDatasetFacetFields(name=name, type=type_, description=description)


ol = client(engineer_key)
t0 = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
run_id = str(uuid.uuid4())
job = Job(
    namespace="airflow",
    name="shop.build_orders_enriched",
    facets={
        "documentation": documentation_job.DocumentationJobFacet(description="Joins orders with customers."),
        "ownership": ownership_job.OwnershipJobFacet(owners=[ownership_job.Owner(name="team:commerce-data", type="team")]),
    },
)
orders = InputDataset(
    namespace=NS,
    name="shop.raw.orders",
    facets={
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[field("id", "bigint"), field("customer_id", "bigint"), field("amount", "numeric(12,2)")]
        ),
        "dataSource": datasource_dataset.DatasourceDatasetFacet(name="warehouse", uri=NS),
        "documentation": documentation_dataset.DocumentationDatasetFacet(description="Orders as the shop writes them."),
        "ownership": ownership_dataset.OwnershipDatasetFacet(owners=[ownership_dataset.Owner(name="user:ana", type="person")]),
    },
)
customers = InputDataset(
    namespace=NS,
    name="shop.raw.customers",
    facets={
        "schema": schema_dataset.SchemaDatasetFacet(fields=[field("id", "bigint"), field("email", "text", "Login e-mail")]),
        "tags": tags_dataset.TagsDatasetFacet(
            tags=[tags_dataset.TagsDatasetFacetFields(key="pii", value="true", source="MANUAL", field="email")]
        ),
    },
)
ol.emit(RunEvent(eventType=RunState.START, eventTime=t0.isoformat(), run=Run(runId=run_id), job=job, producer=PRODUCER, inputs=[orders, customers], outputs=[]))
check(True, "openlineage-python emitted START")

lineage = column_lineage_dataset.ColumnLineageDatasetFacet(
    fields={
        "order_id": column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(
                    namespace=NS, name="shop.raw.orders", field="id",
                    transformations=[column_lineage_dataset.Transformation(type="DIRECT", subtype="IDENTITY")],
                )
            ]
        ),
        "email": column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(
                    namespace=NS, name="shop.raw.customers", field="email",
                    transformations=[column_lineage_dataset.Transformation(type="DIRECT", subtype="TRANSFORMATION", description="lower(email)", masking=True)],
                )
            ]
        ),
    }
)
output = OutputDataset(
    namespace=NS,
    name="shop.mart.orders_enriched",
    facets={"schema": schema_dataset.SchemaDatasetFacet(fields=[field("order_id", "bigint"), field("email", "text")]), "columnLineage": lineage},
)
checked_orders = InputDataset(
    namespace=NS,
    name="shop.raw.orders",
    inputFacets={
        "dataQualityMetrics": data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
            rowCount=5002, columnMetrics={"amount": data_quality_metrics_input_dataset.ColumnMetrics(nullCount=3, distinctCount=4100)}
        ),
        "dataQualityAssertions": data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
            assertions=[
                data_quality_assertions_dataset.Assertion(assertion="not_null", success=True, column="id"),
                data_quality_assertions_dataset.Assertion(assertion="amount_positive", success=False, column="amount"),
            ]
        ),
    },
)
ol.emit(
    RunEvent(
        eventType=RunState.COMPLETE, eventTime=(t0 + timedelta(minutes=1)).isoformat(), run=Run(runId=run_id), job=job,
        producer=PRODUCER, inputs=[checked_orders, customers], outputs=[output],
    )
)
check(True, "openlineage-python emitted COMPLETE")

# A run that fails, with an error message.
failed_id = str(uuid.uuid4())
ol.emit(RunEvent(eventType=RunState.START, eventTime=(t0 + timedelta(days=1)).isoformat(), run=Run(runId=failed_id), job=job, producer=PRODUCER))
ol.emit(
    RunEvent(
        eventType=RunState.FAIL, eventTime=(t0 + timedelta(days=1, seconds=30)).isoformat(), job=job, producer=PRODUCER,
        run=Run(runId=failed_id, facets={"errorMessage": error_message_run.ErrorMessageRunFacet(message="lock timeout", programmingLanguage="python")}),
    )
)
check(True, "openlineage-python emitted START and FAIL of a second run")

# SQL without a columnLineage facet: govgraph parses it.
sql_job_ = Job(
    namespace="airflow",
    name="shop.revenue_by_customer",
    facets={"sql": sql_job.SQLJobFacet(query="INSERT INTO mart.revenue_by_customer SELECT customer_id, sum(amount) AS revenue FROM raw.orders GROUP BY customer_id", dialect="postgres")},
)
ol.emit(
    RunEvent(
        eventType=RunState.COMPLETE, eventTime=(t0 + timedelta(minutes=5)).isoformat(), run=Run(runId=str(uuid.uuid4())), job=sql_job_,
        producer=PRODUCER, inputs=[InputDataset(namespace=NS, name="shop.raw.orders")], outputs=[OutputDataset(namespace=NS, name="shop.mart.revenue_by_customer")],
    )
)
check(True, "openlineage-python emitted a run with only a sql facet")

# DatasetEvent and JobEvent.
ol.emit(DatasetEvent(eventTime=t0.isoformat(), producer=PRODUCER, dataset=StaticDataset(namespace="s3://lake", name="events/clicks", facets={"documentation": documentation_dataset.DocumentationDatasetFacet(description="Raw click stream.")})))
ol.emit(JobEvent(eventTime=t0.isoformat(), producer=PRODUCER, job=Job(namespace="spark", name="sessionize"), inputs=[InputDataset(namespace="s3://lake", name="events/clicks")], outputs=[]))
check(True, "openlineage-python emitted a DatasetEvent and a JobEvent")

# What arrived.
runs = sparql(
    f"""SELECT ?state ?start ?end ?error (COUNT(?e) AS ?events) WHERE {{
      ?r a gg:JobRun ; dct:identifier ?id ; gg:runState ?state ; gg:event ?e .
      OPTIONAL {{ ?r prov:startedAtTime ?start }} OPTIONAL {{ ?r prov:endedAtTime ?end }} OPTIONAL {{ ?r gg:errorMessage ?error }}
      FILTER(?id IN ("{run_id}", "{failed_id}")) }} GROUP BY ?state ?start ?end ?error ORDER BY ?state"""
)
check([r["state"] for r in runs] == ["COMPLETE", "FAIL"], f"run history: one run COMPLETE, one FAIL ({runs})")
check(all(r["events"] == "2" and "start" in r and "end" in r for r in runs), "each run keeps its START and its end event")
check(runs[1].get("error") == "lock timeout", "the failed run carries its error message")

page = get("/api/v1/lineage?" + urllib.parse.urlencode({"node": "shop.mart.orders_enriched", "direction": "upstream"}))
reached = sorted(n["iri"].rsplit("/", 1)[-1] for n in page["items"])
check(reached == ["shop.raw.customers", "shop.raw.orders"], f"REST table lineage upstream of shop.mart.orders_enriched ({reached})")
page = get("/api/v1/lineage?" + urllib.parse.urlencode({"node": "shop.mart.orders_enriched.email", "direction": "upstream", "level": "column"}))
reached = [n["iri"].rsplit("/", 1)[-1] for n in page["items"]]
check(reached == ["email"], f"REST column lineage upstream of shop.mart.orders_enriched.email ({reached})")

edges = sparql(
    """SELECT ?t ?s ?sub ?mask WHERE { ?tc prov:qualifiedDerivation ?e ; csvw:name ?t ; gg:columnOf ?td . ?td dct:identifier "shop.mart.orders_enriched" .
       ?e prov:entity ?sc ; gg:transformationSubtype ?sub ; gg:masking ?mask . ?sc csvw:name ?s } ORDER BY ?t"""
)
check([(e["t"], e["s"]) for e in edges] == [("email", "email"), ("order_id", "id")], f"columnLineage facet edges ({edges})")
check(edges[0]["mask"] == "true", "the masking flag arrived")

parsed = sparql(
    """SELECT ?t ?s WHERE { ?tc prov:qualifiedDerivation ?e ; csvw:name ?t ; gg:columnOf ?td . ?td dct:identifier "shop.mart.revenue_by_customer" .
       ?e prov:entity ?sc . ?sc csvw:name ?s } ORDER BY ?t ?s"""
)
check(("revenue", "amount") in [(e["t"], e["s"]) for e in parsed], f"lineage parsed from the sql facet ({parsed})")

facts = sparql(
    """SELECT ?desc ?owner ?rows WHERE { ?d dct:identifier "shop.raw.orders" ; dct:description ?desc ; gg:owner ?o ; gg:rowCount ?rows . ?o foaf:name ?owner }"""
)
check(facts and facts[0]["desc"] == "Orders as the shop writes them." and facts[0]["owner"] == "ana" and facts[0]["rows"] == "5002", f"documentation, ownership and metrics of a dataset ({facts})")
tags = sparql("""SELECT ?label WHERE { ?c csvw:name "email" ; gg:columnOf ?d ; gg:tag ?t . ?d dct:identifier "shop.raw.customers" . ?t skos:prefLabel ?label }""")
check([t["label"].lower() for t in tags] == ["pii"], f"a column tag from the tags facet, reusing the catalog's tag ({tags})")

violations = get("/api/v1/violations?limit=100")
check(any("amount" in (v.get("asset") or "") for v in violations["items"]), "a failed assertion is a violation in /api/v1/violations")
runs_page = get("/api/v1/runs?limit=100")
check(sum(1 for r in runs_page["items"] if r.get("status") == "pass") >= 1, "a passed assertion is a rule run in /api/v1/runs")

# Refusals: a malformed event is a 400 that names the field, and an analyst may not post.
def post(body, key):
    request = urllib.request.Request(base + "/api/v1/lineage", data=body, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


status, problem = post(json.dumps({"eventType": "START", "eventTime": "soon", "producer": PRODUCER, "schemaURL": "x", "run": {"runId": run_id}, "job": {"namespace": "a", "name": "b"}}).encode(), engineer_key)
check(status == 400 and "eventTime" in problem.get("detail", ""), f"a malformed event gets 400 naming the field ({problem.get('detail')})")
status, _ = post(b'{"eventTime":"2026-01-01T00:00:00Z","producer":"p","schemaURL":"s","job":{"namespace":"a","name":"b"}}', analyst_key)
check(status == 403, "an analyst may not post lineage")
print(f"{checks} OpenLineage client checks passed")
