//! IRIs of the vocabularies govgraph speaks, as constants.
//!
//! The ontology itself lives in `ontology/govgraph.ttl`; these constants only spare the code
//! from spelling IRIs by hand.

use oxigraph::model::NamedNodeRef;

macro_rules! namespace {
    ($(#[$doc:meta])* $module:ident, $ns:literal, { $($name:ident = $local:literal),* $(,)? }) => {
        $(#[$doc])*
        pub mod $module {
            use super::NamedNodeRef;
            /// The namespace IRI.
            pub const NS: &str = $ns;
            $(
                #[doc = concat!("`", $ns, $local, "`")]
                pub const $name: NamedNodeRef<'static> = NamedNodeRef::new_unchecked(concat!($ns, $local));
            )*
        }
    };
}

namespace!(
    /// govgraph's own namespace.
    gg, "https://govgraph.dev/ns#", {
    SYSTEM = "System", TABLE = "Table", VIEW = "View", MATERIALIZED_VIEW = "MaterializedView",
    FILE_DATASET = "FileDataset", MODEL = "Model", DASHBOARD = "Dashboard",
    GLOSSARY_TERM = "GlossaryTerm", DOMAIN = "Domain", TAG = "Tag", CLASSIFICATION = "Classification",
    QUALITY_RULE = "QualityRule", RULE_RUN = "RuleRun", VIOLATION = "Violation", JOB = "Job", JOB_RUN = "JobRun",
    COLUMN_DERIVATION = "ColumnDerivation", DATA_PRODUCT = "DataProduct", PROCESSING_ACTIVITY = "ProcessingActivity",
    SOURCE = "Source",
    PLATFORM = "platform", SYSTEM_PROP = "system", LAYER = "layer", DOMAIN_PROP = "domain", OWNER = "owner",
    STEWARD = "steward", TAG_PROP = "tag", TERM = "term", DEFINITION_SQL = "definitionSql", ROW_COUNT = "rowCount",
    CERTIFIED = "certified", COLUMN_OF = "columnOf", DATA_TYPE = "dataType", ORDINAL = "ordinal",
    IS_PRIMARY_KEY = "isPrimaryKey", TRANSFORMATION_TYPE = "transformationType",
    TRANSFORMATION_SUBTYPE = "transformationSubtype", TRANSFORMATION_DESCRIPTION = "transformationDescription",
    MASKING = "masking", MASKING_METHOD = "maskingMethod", PERSONAL_DATA_CATEGORY = "personalDataCategory", SPECIAL_CATEGORY = "specialCategory",
    SENSITIVITY = "sensitivity", RULE_TYPE = "ruleType", APPLIES_TO = "appliesTo", PARAMETERS = "parameters",
    EXPRESSION = "expression", SEVERITY = "severity", POLICY_SCOPE = "policyScope", VERSION = "version",
    POLICY_STATUS = "policyStatus", SLA = "sla", PATH = "path", REFERENCES = "references",
    GRAPH = "graph", SOURCE_LOCATION = "sourceLocation", CONTENT_HASH = "contentHash", TRIPLE_COUNT = "tripleCount",
    FORMAT = "format", PENDING_LOAD = "pendingLoad",
    INGESTION_RUN = "IngestionRun", CONNECTOR = "connector", STATUS = "status", ATTEMPTS = "attempts",
    RECORD_COUNT = "recordCount", COUNTED = "counted", COUNT = "count", WARNING = "warning",
    ERROR_MESSAGE = "errorMessage", RULE = "rule", CHECKED_COUNT = "checkedCount", FAILED_COUNT = "failedCount",
    FOCUS = "focus", RUN_STATE = "runState", JOB_PROP = "job", RUN_EVENT = "RunEvent", EVENT = "event",
    ROW_COUNT_METRIC = "RowCount", NULL_COUNT_METRIC = "NullCount", DISTINCT_COUNT_METRIC = "DistinctCount",
    CENTRAL = "Central", DOMAIN_LOCAL = "DomainLocal",
    CLASSIFICATION_RESULT = "ClassificationResult", CLASSIFICATION_PROP = "classification",
    CONFIDENCE = "confidence", EVIDENCE = "evidence", LABEL_REVIEW = "LabelReview", REVIEW_OF = "reviewOf",
    DECISION = "decision", NULL_PERCENTAGE_METRIC = "NullPercentage", MINIMUM_VALUE = "MinimumValue",
    MAXIMUM_VALUE = "MaximumValue", MEAN_VALUE = "MeanValue", STANDARD_DEVIATION = "StandardDeviation",
    FIRST_QUARTILE = "FirstQuartile", MEDIAN = "Median", THIRD_QUARTILE = "ThirdQuartile",
    MINIMUM_LENGTH = "MinimumLength", MAXIMUM_LENGTH = "MaximumLength", MEAN_LENGTH = "MeanLength",
    SAMPLE_ROW = "sampleRow", EXPECTED_VALUE = "expectedValue", QUALITY_SCORE = "QualityScore",
    ROW_FILTER = "rowFilter", ANY_ASSET = "AnyAsset", POLICY_CHANGE = "PolicyChange", POLICY_PROP = "policy",
    CHANGE = "change", ACTOR = "actor", ASSIGNEE_DOMAIN = "assigneeDomain", RESOURCE_DOMAIN = "ResourceDomain",
    RETENTION_COLUMN = "retentionColumn", CUTOFF = "cutoff",
    MEASURE_EXPRESSION = "measureExpression", MEASURE_FILTER = "measureFilter",
    MEASURE_DATASET = "measureDataset", MEASURE_TIME = "measureTime", FILTER_EXPRESSION = "filterExpression",
    PRODUCT_SPEC = "productSpec", PRODUCT_REQUEST = "productRequest",
});

namespace!(
    /// RDF.
    rdf, "http://www.w3.org/1999/02/22-rdf-syntax-ns#", { TYPE = "type", LANG_STRING = "langString" });
namespace!(
    /// RDF Schema.
    rdfs, "http://www.w3.org/2000/01/rdf-schema#", { SUB_CLASS_OF = "subClassOf", LABEL = "label", COMMENT = "comment" });
namespace!(
    /// XML Schema datatypes.
    xsd, "http://www.w3.org/2001/XMLSchema#", {
    STRING = "string", BOOLEAN = "boolean", INTEGER = "integer", LONG = "long", DECIMAL = "decimal",
    DATE_TIME = "dateTime", DATE = "date", DURATION = "duration", ANY_URI = "anyURI",
});
namespace!(
    /// DCAT 3.
    dcat, "http://www.w3.org/ns/dcat#", {
    CATALOG = "Catalog", DATASET = "Dataset", DISTRIBUTION = "Distribution", DATA_SERVICE = "DataService",
    THEME = "theme", DISTRIBUTION_PROP = "distribution", KEYWORD = "keyword", LANDING_PAGE = "landingPage",
});
namespace!(
    /// Dublin Core terms.
    dct, "http://purl.org/dc/terms/", {
    TITLE = "title", DESCRIPTION = "description", IDENTIFIER = "identifier", MODIFIED = "modified", FORMAT = "format",
    IS_VERSION_OF = "isVersionOf",
});
namespace!(
    /// PROV-O.
    prov, "http://www.w3.org/ns/prov#", {
    ENTITY = "entity", WAS_DERIVED_FROM = "wasDerivedFrom", QUALIFIED_DERIVATION = "qualifiedDerivation",
    DERIVATION = "Derivation", HAD_ACTIVITY = "hadActivity", GENERATED_AT_TIME = "generatedAtTime", AGENT = "Agent",
    ACTIVITY = "Activity", STARTED_AT_TIME = "startedAtTime", ENDED_AT_TIME = "endedAtTime", GENERATED = "generated",
    USED = "used", AT_TIME = "atTime", WAS_GENERATED_BY = "wasGeneratedBy", WAS_ASSOCIATED_WITH = "wasAssociatedWith", WAS_INFORMED_BY = "wasInformedBy",
    WAS_ATTRIBUTED_TO = "wasAttributedTo", WAS_REVISION_OF = "wasRevisionOf",
});
namespace!(
    /// SKOS.
    skos, "http://www.w3.org/2004/02/skos/core#", {
    CONCEPT = "Concept", CONCEPT_SCHEME = "ConceptScheme", PREF_LABEL = "prefLabel", ALT_LABEL = "altLabel",
    DEFINITION = "definition", BROADER = "broader", NARROWER = "narrower", RELATED = "related", IN_SCHEME = "inScheme",
});
namespace!(
    /// CSV on the Web.
    csvw, "http://www.w3.org/ns/csvw#", { COLUMN = "Column", NAME = "name", REQUIRED = "required" });
namespace!(
    /// W3C ORG.
    org, "http://www.w3.org/ns/org#", { ORGANIZATION = "Organization", UNIT_OF = "unitOf", MEMBER_OF = "memberOf" });
namespace!(
    /// FOAF.
    foaf, "http://xmlns.com/foaf/0.1/", { PERSON = "Person", GROUP = "Group", NAME = "name", MBOX = "mbox" });
namespace!(
    /// DQV.
    dqv, "http://www.w3.org/ns/dqv#", {
    IN_DIMENSION = "inDimension", QUALITY_MEASUREMENT = "QualityMeasurement", COMPUTED_ON = "computedOn",
    IS_MEASUREMENT_OF = "isMeasurementOf", VALUE = "value",
});
namespace!(
    /// ODRL 2.2.
    odrl, "http://www.w3.org/ns/odrl/2/", {
    SET = "Set", POLICY = "Policy", UID = "uid", PERMISSION = "permission", PROHIBITION = "prohibition",
    OBLIGATION = "obligation", DUTY = "duty", TARGET = "target", ASSIGNEE = "assignee", ACTION = "action",
    CONSTRAINT = "constraint", LEFT_OPERAND = "leftOperand", OPERATOR = "operator", RIGHT_OPERAND = "rightOperand",
});
namespace!(
    /// DPROD.
    dprod, "https://ekgf.github.io/dprod/", {
    DATA_PRODUCT_OWNER = "dataProductOwner", PURPOSE = "purpose", LIFECYCLE_STATUS = "lifecycleStatus",
    INPUT_DATASET = "inputDataset", OUTPUT_DATASET = "outputDataset",
});
namespace!(
    /// SHACL.
    sh, "http://www.w3.org/ns/shacl#", {
    NODE_SHAPE = "NodeShape", PROPERTY_SHAPE = "PropertyShape", TARGET_CLASS = "targetClass", TARGET_NODE = "targetNode",
    TARGET_SUBJECTS_OF = "targetSubjectsOf", TARGET_OBJECTS_OF = "targetObjectsOf", PROPERTY = "property",
    PATH = "path", INVERSE_PATH = "inversePath", MIN_COUNT = "minCount", MAX_COUNT = "maxCount", DATATYPE = "datatype",
    CLASS = "class", NODE_KIND = "nodeKind", IRI = "IRI", LITERAL = "Literal", BLANK_NODE = "BlankNode",
    BLANK_NODE_OR_IRI = "BlankNodeOrIRI", IRI_OR_LITERAL = "IRIOrLiteral", BLANK_NODE_OR_LITERAL = "BlankNodeOrLiteral",
    MESSAGE = "message", SEVERITY = "severity", VIOLATION = "Violation", WARNING = "Warning", INFO = "Info",
    NAME = "name", SPARQL = "sparql", SELECT = "select", PREFIXES = "prefixes", DECLARE = "declare",
    PREFIX = "prefix", NAMESPACE = "namespace", DEACTIVATED = "deactivated", IN = "in", PATTERN = "pattern",
    VALIDATION_REPORT = "ValidationReport", VALIDATION_RESULT = "ValidationResult", CONFORMS = "conforms",
    RESULT = "result", FOCUS_NODE = "focusNode", RESULT_PATH = "resultPath", VALUE = "value",
    RESULT_SEVERITY = "resultSeverity", RESULT_MESSAGE = "resultMessage", SOURCE_SHAPE = "sourceShape",
    SOURCE_CONSTRAINT_COMPONENT = "sourceConstraintComponent",
});

/// Named graphs that govgraph manages itself; loads may not write to them.
pub mod graphs {
    use super::NamedNodeRef;
    /// The prefix of every graph govgraph names.
    pub const PREFIX: &str = "urn:govgraph:graph:";
    /// The ontology.
    pub const ONTOLOGY: NamedNodeRef<'static> =
        NamedNodeRef::new_unchecked("urn:govgraph:graph:ontology");
    /// The SHACL shapes.
    pub const SHAPES: NamedNodeRef<'static> =
        NamedNodeRef::new_unchecked("urn:govgraph:graph:shapes");
    /// Bookkeeping about loaded sources.
    pub const META: NamedNodeRef<'static> = NamedNodeRef::new_unchecked("urn:govgraph:graph:meta");
}

/// Prefix declarations for SPARQL, shared by every query govgraph writes.
pub const SPARQL_PREFIXES: &str = "PREFIX gg: <https://govgraph.dev/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dqv: <http://www.w3.org/ns/dqv#>
PREFIX odrl: <http://www.w3.org/ns/odrl/2/>
PREFIX dpv: <https://w3id.org/dpv#>
PREFIX pd: <https://w3id.org/dpv/pd#>
PREFIX csvw: <http://www.w3.org/ns/csvw#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX dprod: <https://ekgf.github.io/dprod/>
PREFIX sh: <http://www.w3.org/ns/shacl#>
";

/// The same prefixes as `(prefix, namespace)` pairs, for serialisers.
pub fn prefix_pairs() -> impl Iterator<Item = (&'static str, &'static str)> {
    SPARQL_PREFIXES.lines().filter_map(|line| {
        let rest = line.strip_prefix("PREFIX ")?;
        let (prefix, ns) = rest.split_once(": ")?;
        Some((prefix, ns.trim_start_matches('<').trim_end_matches('>')))
    })
}
