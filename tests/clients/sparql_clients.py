"""Talks to a running govgraph server with real SPARQL clients: SPARQLWrapper and rdflib's
SPARQLStore. Exits non-zero on the first failed check.

usage: sparql_clients.py ENDPOINT STEWARD_KEY ANALYST_KEY
"""

import sys

from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, POST, POSTDIRECTLY, TSV, TURTLE, XML, SPARQLWrapper

endpoint, steward_key, analyst_key = sys.argv[1:4]
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1
    print(f"ok   {what}")


def wrapper(key):
    w = SPARQLWrapper(endpoint, updateEndpoint=endpoint)
    w.addCustomHttpHeader("X-API-Key", key)
    return w


DATASETS = "SELECT ?d ?title WHERE { ?d a dcat:Dataset ; dct:title ?title } ORDER BY ?d LIMIT 5"

# SPARQLWrapper: every results format, GET and POST.
w = wrapper(analyst_key)
w.setQuery(DATASETS)
w.setReturnFormat(JSON)
rows = w.query().convert()["results"]["bindings"]
check(len(rows) == 5, "SPARQLWrapper SELECT as JSON")
w.setReturnFormat(XML)
doc = w.query().convert()
check(len(doc.getElementsByTagName("result")) == 5, "SPARQLWrapper SELECT as XML")
w.setReturnFormat(CSV)
csv = w.query().convert().decode()
check(csv.splitlines()[0].strip() == "d,title" and len(csv.splitlines()) == 6, "SPARQLWrapper SELECT as CSV")
w.setReturnFormat(TSV)
tsv = w.query().convert().decode()
check(tsv.splitlines()[0].strip() == "?d\t?title", "SPARQLWrapper SELECT as TSV")
w.setMethod(POST)
w.setReturnFormat(JSON)
check(len(w.query().convert()["results"]["bindings"]) == 5, "SPARQLWrapper SELECT by POST")
w = wrapper(analyst_key)
w.setQuery("ASK { ?t a gg:GlossaryTerm }")
w.setReturnFormat(JSON)
check(w.query().convert()["boolean"] is True, "SPARQLWrapper ASK")
w.setQuery("CONSTRUCT { ?d dct:title ?t } WHERE { ?d a dcat:Dataset ; dct:title ?t } LIMIT 3")
w.setReturnFormat(TURTLE)
g = Graph().parse(data=w.query().convert(), format="turtle")
check(len(g) == 3, "SPARQLWrapper CONSTRUCT as Turtle")
w.setQuery(
    "DESCRIBE <https://id.govgraph.dev/dataset/shop/bronze.orders>"
)
w.setReturnFormat(TURTLE)
g = Graph().parse(data=w.query().convert(), format="turtle")
check(len(g) > 5, "SPARQLWrapper DESCRIBE as Turtle")

# Named graphs through the protocol parameters.
w = wrapper(analyst_key)
w.setQuery("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
w.addDefaultGraph("urn:govgraph:graph:ontology")
w.setReturnFormat(JSON)
n_onto = int(w.query().convert()["results"]["bindings"][0]["n"]["value"])
check(n_onto > 100, "default-graph-uri restricts the default graph")
w = wrapper(analyst_key)
w.setQuery("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
w.addNamedGraph("urn:govgraph:graph:ontology")
w.setReturnFormat(JSON)
graphs = [b["g"]["value"] for b in w.query().convert()["results"]["bindings"]]
check(graphs == ["urn:govgraph:graph:ontology"], "named-graph-uri restricts GRAPH")

# Updates: refused for an analyst, applied for a steward.
INSERT = (
    'INSERT DATA { GRAPH <urn:govgraph:graph:clients> { '
    '<urn:ex:client-check> <http://purl.org/dc/terms/title> "written by SPARQLWrapper" } }'
)
w = wrapper(analyst_key)
w.setQuery(INSERT)
w.setMethod(POST)
w.setRequestMethod(POSTDIRECTLY)
try:
    w.query()
    check(False, "an analyst's update is refused")
except Exception as e:  # SPARQLWrapper raises on 403
    check("403" in str(e) or "Forbidden" in str(e) or "forbidden" in str(e), "an analyst's update is refused")
w = wrapper(steward_key)
w.setQuery(INSERT)
w.setMethod(POST)
w.setRequestMethod(POSTDIRECTLY)
w.query()
w = wrapper(analyst_key)
w.setQuery("ASK { <urn:ex:client-check> ?p ?o }")
w.setReturnFormat(JSON)
check(w.query().convert()["boolean"] is True, "SPARQLWrapper UPDATE by a steward")

# rdflib's SPARQLStore, with HTTP Basic authentication (the key as the password).
store = SPARQLStore(endpoint, auth=("ana", analyst_key), returnFormat="json")
g = Graph(store=store)
res = list(g.query(DATASETS))
check(len(res) == 5 and isinstance(res[0][1], Literal), "rdflib SPARQLStore SELECT")
check(bool(g.query("ASK { ?s a dcat:Dataset }").askAnswer), "rdflib SPARQLStore ASK")
title = URIRef("http://purl.org/dc/terms/title")
check(
    (URIRef("urn:ex:client-check"), title, Literal("written by SPARQLWrapper")) in g,
    "rdflib SPARQLStore triple lookup",
)
upd = SPARQLUpdateStore(endpoint, endpoint, auth=("sam", steward_key))
upd.update(
    'INSERT DATA { GRAPH <urn:govgraph:graph:clients> { <urn:ex:rdflib-check> '
    '<http://purl.org/dc/terms/title> "written by rdflib" } }'
)
check(
    bool(g.query('ASK { <urn:ex:rdflib-check> ?p "written by rdflib" }').askAnswer),
    "rdflib SPARQLUpdateStore update",
)
print(f"{checks} checks passed")
