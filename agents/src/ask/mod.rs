//! Talk to metadata: questions in plain words, answered from the graph with citations.
//!
//! The offline brain needs no language model. Each question runs through a traced plan, a
//! small state machine whose steps are the agents' roles:
//!
//! 1. the **planner** reads the question (intent, subject, filters; `intent.rs`) and links its
//!    words to catalog entities (`lexicon.rs`), or to the previous answer for follow-ups;
//! 2. the **guardrail** checks the request against the asker's role (`guard.rs`): requests for
//!    personal or restricted values are refused with a reason;
//! 3. the **executor** runs the tools (scoped SPARQL with deadlines and retries, `kb.rs`;
//!    search), with the **lineage** agent for walks and the **metadata** agent for schemas
//!    (`answer.rs`);
//! 4. the **evaluator** checks that the answer is grounded (every entity exists in what the
//!    asker may read) and consistent (a count equals what it counts); a failed check or a
//!    failed step falls back to a simpler plan;
//! 5. the **guardrail** masks personal values in the text before anything is answered.
//!
//! Catalog text (descriptions, definitions, comments) is only ever quoted: nothing in it is
//! read as an instruction.

pub mod answer;
pub mod facts;
pub mod guard;
pub mod intent;
pub mod kb;
pub mod lexicon;
#[cfg(feature = "openai")]
pub mod llm;
#[cfg(feature = "openai")]
mod llm_tools;
pub mod text;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use govgraph_graph::{GraphStore, Scope};
use govgraph_search::SearchIndex;
use serde::Serialize;

pub use answer::Outcome;
pub use facts::EntityRef;
pub use guard::Role;
pub use intent::Intent;
pub use kb::ToolCall;
pub use lexicon::Kind;

use answer::Ctx;
use kb::{Kb, values};
use lexicon::{Entry, Lexicon, dotted};

/// Settings of the question answerer.
#[derive(Debug, Clone)]
pub struct AskConfig {
    /// A step that runs longer is cut off and the question re-planned (default 30 s).
    pub step_timeout: Duration,
    /// Conversations kept at most; the least recently used go first.
    pub max_sessions: usize,
    /// A conversation idle this long is forgotten.
    pub session_ttl: Duration,
    /// Longest question accepted, in characters.
    pub max_question_chars: usize,
}

impl Default for AskConfig {
    fn default() -> Self {
        Self {
            step_timeout: Duration::from_secs(30),
            max_sessions: 10_000,
            session_ttl: Duration::from_secs(3600),
            max_question_chars: 2000,
        }
    }
}

/// A question.
#[derive(Debug, Clone)]
pub struct AskRequest {
    /// The words.
    pub question: String,
    /// The asker's role.
    pub role: Role,
    /// The conversation it continues, if any.
    pub session: Option<String>,
    /// What the asker may read.
    pub scope: Scope,
    /// Include the plan and each step's timing in the answer.
    pub explain: bool,
    /// The asker's name, domains and roles as the policy engine knows them (default: the
    /// role alone).
    pub subject: Option<govgraph_policy::Subject>,
    /// Why the asker wants to know (a DPV purpose), for policy decisions.
    pub purpose: Option<String>,
}

impl AskRequest {
    /// A question from a viewer of everything, in a new conversation.
    pub fn new(question: &str) -> Self {
        Self {
            question: question.to_owned(),
            role: Role::Viewer,
            session: None,
            scope: Scope::all(),
            explain: false,
            subject: None,
            purpose: None,
        }
    }
}

/// One step of the plan, as traced.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The role that ran it: planner, guardrail, executor, lineage, metadata, evaluator.
    pub agent: &'static str,
    /// What it did.
    pub action: String,
    /// `ok`, `denied`, `retry`, `fallback` or `error`.
    pub outcome: &'static str,
    /// Wall time in milliseconds.
    pub ms: f64,
    /// The tool calls it made.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolCall>,
}

/// Where the time went, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// The whole question.
    pub total_ms: f64,
    /// Reading and linking.
    pub plan_ms: f64,
    /// Guardrail checks, in and out.
    pub guard_ms: f64,
    /// Tools.
    pub execute_ms: f64,
    /// Grounding and consistency checks.
    pub evaluate_ms: f64,
}

/// An answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The answer in words, personal values masked.
    pub answer: String,
    /// The entities it is about.
    pub entities: Vec<EntityRef>,
    /// The number it gives, for counts and statistics.
    pub value: Option<f64>,
    /// True when the question was refused.
    pub refused: bool,
    /// Why it was refused, or why no answer could be given.
    pub reason: Option<String>,
    /// The IRIs the answer rests on, then the SPARQL that ran.
    pub citations: Vec<String>,
    /// `offline` (no language model) or `llm`.
    pub mode: &'static str,
    /// Where the time went.
    pub timings: Timings,
    /// The conversation, for follow-up questions.
    pub session: String,
    /// How the question was read.
    pub intent: &'static str,
    /// When the question is ambiguous: what it could mean.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<EntityRef>,
    /// The plan with each step's timing, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Vec<Step>>,
    /// Every tool call, for the audit log.
    #[serde(skip)]
    pub tool_calls: Vec<ToolCall>,
}

#[derive(Debug, Clone)]
struct Session {
    entities: Vec<EntityRef>,
    intent: Intent,
    words: Vec<String>,
    used: Instant,
}

/// Lexicons per tenant (`None`: everything), with the store generation they were read at.
type LexiconCache = HashMap<Option<String>, (u64, Arc<Lexicon>)>;

/// Answers questions. One per process: it caches the lexicon per tenant and keeps
/// conversations.
pub struct Asker {
    config: AskConfig,
    lexicons: Mutex<LexiconCache>,
    sessions: Mutex<HashMap<String, Session>>,
    counter: AtomicU64,
    #[cfg(feature = "openai")]
    llm: Option<llm::LlmBrain>,
    policy: Option<Arc<govgraph_policy::Engine>>,
}

impl Asker {
    /// Routes every decision on values and access through the policy engine, and masks
    /// the values its policies protect in every answer.
    pub fn with_policy(mut self, engine: Arc<govgraph_policy::Engine>) -> Self {
        self.policy = Some(engine);
        self
    }

    /// An answerer with these settings.
    pub fn new(config: AskConfig) -> Self {
        Self {
            config,
            lexicons: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            #[cfg(feature = "openai")]
            llm: None,
            policy: None,
        }
    }

    /// An answerer that asks a language model first and falls back to the offline brain.
    #[cfg(feature = "openai")]
    pub fn with_llm(config: AskConfig, brain: llm::LlmBrain) -> Self {
        let mut a = Self::new(config);
        a.llm = Some(brain);
        a
    }

    fn lexicon(&self, store: &GraphStore, scope: &Scope) -> crate::error::Result<Arc<Lexicon>> {
        let key = scope.tenant_id().map(str::to_owned);
        let generation = store.generation();
        if let Ok(cache) = self.lexicons.lock()
            && let Some((g, lex)) = cache.get(&key)
            && *g == generation
        {
            return Ok(lex.clone());
        }
        let lex = Arc::new(Lexicon::build(store, scope)?);
        if let Ok(mut cache) = self.lexicons.lock() {
            cache.insert(key, (generation, lex.clone()));
        }
        Ok(lex)
    }

    fn new_session_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        format!("{:016x}{:04x}", t ^ 0x9e37_79b9_7f4a_7c15, n & 0xffff)
    }

    /// Answers a question. `search` links words that no name matches and backs discovery.
    /// With a language model configured, the model answers through the catalog's tools and
    /// the offline answer is the fallback; a refused question never reaches the model.
    pub fn ask(
        &self,
        store: &GraphStore,
        search: Option<&SearchIndex>,
        request: &AskRequest,
    ) -> crate::error::Result<Answer> {
        let offline = self.ask_offline(store, search, request, true)?;
        #[cfg(feature = "openai")]
        if let Some(brain) = &self.llm
            && !offline.refused
        {
            return Ok(self.ask_llm(brain, store, search, request, offline));
        }
        Ok(offline)
    }

    /// The offline brain. `remember` keeps the conversation (tools' inner questions do not).
    fn ask_offline(
        &self,
        store: &GraphStore,
        search: Option<&SearchIndex>,
        request: &AskRequest,
        remember: bool,
    ) -> crate::error::Result<Answer> {
        let started = Instant::now();
        let mut steps: Vec<Step> = Vec::new();
        let mut timings = Timings::default();
        let session_id = request
            .session
            .clone()
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .unwrap_or_else(|| self.new_session_id());
        let previous = self.sessions.lock().ok().and_then(|mut s| {
            let ttl = self.config.session_ttl;
            s.retain(|_, v| v.used.elapsed() < ttl);
            s.get(&session_id).cloned()
        });

        // Guardrail (input): size and shape of the question.
        let t = Instant::now();
        let question: String = request
            .question
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect();
        if question.trim().is_empty() || question.chars().count() > self.config.max_question_chars {
            let reason = if question.trim().is_empty() {
                "The question is empty.".to_owned()
            } else {
                format!(
                    "The question is longer than {} characters.",
                    self.config.max_question_chars
                )
            };
            steps.push(step(
                "guardrail",
                "check the question",
                "denied",
                t,
                Vec::new(),
            ));
            timings.guard_ms += ms(t);
            timings.total_ms = ms(started);
            return Ok(self.finish(
                request,
                session_id,
                Outcome {
                    text: reason.clone(),
                    refused: Some(reason),
                    ..Outcome::default()
                },
                Intent::Describe,
                steps,
                timings,
                Vec::new(),
            ));
        }
        timings.guard_ms += ms(t);

        // Planner.
        let t = Instant::now();
        let lex = self.lexicon(store, &request.scope)?;
        let mut kb = Kb::new(store, &request.scope, self.config.step_timeout);
        kb.pii_tags = lex.pii_tags.clone();
        kb.restricted_tags = lex.restricted_tags.clone();
        let kb = kb;
        let words = text::words(&question);
        let mut exact: Vec<Entry> = Vec::new();
        let mut covered: Vec<(usize, usize)> = Vec::new();
        for (reference, start, end) in dotted(&question) {
            let found = resolve_dotted(&kb, &lex, &reference)?;
            if !found.is_empty() {
                exact.extend(found);
                covered.push((start, end));
            }
        }
        let masked_words: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if covered.iter().any(|(s, e)| i >= *s && i < *e) {
                    String::new()
                } else {
                    w.clone()
                }
            })
            .collect();
        let mentions = lex.mentions(&masked_words);
        // Column words: "the email column of bronze.customers".
        let datasets: Vec<String> = exact
            .iter()
            .filter(|e| e.kind == Kind::Dataset)
            .map(|e| e.iri.clone())
            .chain(
                mentions
                    .iter()
                    .filter(|m| m.entries.len() == 1 && m.entries[0].kind == Kind::Dataset)
                    .map(|m| m.entries[0].iri.clone()),
            )
            .collect();
        let mut column_spans: Vec<(usize, usize)> = Vec::new();
        if !datasets.is_empty() {
            let mut spans: Vec<(usize, usize)> = covered.clone();
            spans.extend(
                mentions
                    .iter()
                    .filter(|m| m.entries.iter().any(|e| e.kind == Kind::Dataset))
                    .map(|m| (m.start, m.end)),
            );
            for (e, span) in column_words(&kb, &lex, &datasets, &words, &spans)? {
                if !exact.iter().any(|x| x.iri == e.iri) {
                    exact.push(e);
                    column_spans.push(span);
                }
            }
            // A named column replaces its dataset as the subject.
            if exact.iter().any(|e| e.kind == Kind::Column) && !column_spans.is_empty() {
                let columns: Vec<EntityRef> = exact
                    .iter()
                    .filter(|e| e.kind == Kind::Column)
                    .map(EntityRef::from_entry)
                    .collect();
                let owning = facts::datasets_of(&kb, &columns)?;
                exact.retain(|e| !(e.kind == Kind::Dataset && owning.contains(&e.iri)));
            }
        }
        let subject_kinds: Vec<Kind> = exact
            .iter()
            .map(|e| e.kind)
            .chain(
                mentions
                    .iter()
                    .flat_map(|m| m.entries.iter().map(|e| e.kind)),
            )
            .collect();
        let mut reading = intent::read(&words, &subject_kinds);
        let follow_up = previous.is_some()
            && (words.first().is_some_and(|w| w == "and")
                || text::has_any(
                    &words,
                    &[
                        "those",
                        "them",
                        "these",
                        "they",
                        "what about",
                        "how about",
                        "of those",
                        "it",
                    ],
                ))
            && exact.is_empty()
            && !mentions.iter().any(|m| {
                m.entries
                    .iter()
                    .any(|e| matches!(e.kind, Kind::Dataset | Kind::Column))
            });
        let about_new = previous.is_some()
            && text::has_any(&words, &["what about", "how about", "and for", "same for"])
            && (!exact.is_empty() || !mentions.is_empty());
        if about_new && let Some(p) = &previous {
            reading.intent = p.intent;
        }
        let mut filters = facts::Filters::default();
        let mut target_mentions = Vec::new();
        let lineage = matches!(reading.intent, Intent::Upstream | Intent::Downstream);
        let mut subject_mentions = Vec::new();
        for m in &mentions {
            if lineage && m.end <= reading.subject_from {
                target_mentions.push(m.entries.clone());
            } else {
                subject_mentions.push(m.entries.clone());
            }
            let all = |k: Kind| m.entries.iter().all(|e| e.kind == k);
            let domain_word = words
                .get(m.end)
                .is_some_and(|w| w == "domain" || w == "team")
                || words[m.start..m.end].iter().any(|w| w == "domain");
            if all(Kind::Domain)
                || (domain_word && m.entries.iter().any(|e| e.kind == Kind::Domain))
            {
                filters.domains.extend(
                    m.entries
                        .iter()
                        .filter(|e| e.kind == Kind::Domain)
                        .map(|e| e.iri.clone()),
                );
            }
            if all(Kind::Person) && !matches!(reading.intent, Intent::Ownership) {
                filters
                    .owners
                    .extend(m.entries.iter().map(|e| e.iri.clone()));
            }
            if all(Kind::System) {
                filters
                    .systems
                    .extend(m.entries.iter().map(|e| e.iri.clone()));
            }
            if all(Kind::Tag)
                && !matches!(
                    reading.intent,
                    Intent::Sensitivity | Intent::Discovery | Intent::Policy
                )
            {
                filters.tags.extend(m.entries.iter().map(|e| e.iri.clone()));
            }
        }
        if !lineage {
            filters.layer = answer::layer_word(&words);
            if words.iter().any(|w| w == "certified") {
                filters.certified = true;
            }
        }
        let plan_action = format!(
            "read as {}{}; linked {}",
            reading.intent.name(),
            reading
                .counted
                .map(|c| format!(" of {}", c.name()))
                .unwrap_or_default(),
            {
                let mut linked: Vec<String> = exact
                    .iter()
                    .map(|e| format!("{} ({:?})", e.name, e.kind))
                    .collect();
                linked.extend(mentions.iter().map(|m| {
                    m.entries
                        .iter()
                        .map(|e| format!("{} ({:?})", e.name, e.kind))
                        .collect::<Vec<_>>()
                        .join(" | ")
                }));
                if follow_up {
                    linked.push(format!(
                        "{} entities of the previous answer",
                        previous.as_ref().map_or(0, |p| p.entities.len())
                    ));
                }
                if linked.is_empty() {
                    "nothing".to_owned()
                } else {
                    linked.join(", ")
                }
            }
        );
        steps.push(step("planner", &plan_action, "ok", t, Vec::new()));
        timings.plan_ms += ms(t);

        let policy_check = self.policy.as_deref().map(|engine| guard::PolicyCheck {
            engine,
            scope: &request.scope,
            subject: subject_of(request),
            purpose: request.purpose.clone(),
        });
        let mut ctx = Ctx {
            policy: policy_check.as_ref(),
            kb: &kb,
            lex: &lex,
            words: words.clone(),
            reading: reading.clone(),
            mentions: subject_mentions,
            exact: exact.clone(),
            target_mentions,
            filters,
            role: request.role,
            search,
            previous: if follow_up || about_new {
                previous
                    .as_ref()
                    .map(|p| p.entities.clone())
                    .unwrap_or_default()
            } else {
                Vec::new()
            },
        };
        if about_new {
            // "What about X?": the previous question's words, about X.
            ctx.previous.clear();
            if let Some(p) = &previous {
                ctx.words = p.words.clone();
            }
        }

        // Guardrail (input): requests for values.
        if reading.intent == Intent::Values {
            let t = Instant::now();
            let before = kb.calls().len();
            let decided = guard::values_request(
                &kb,
                &lex,
                request.role,
                policy_check.as_ref(),
                &words,
                &exact,
                &ctx.mentions,
            );
            let tools = kb.calls()[before..].to_vec();
            // Fail safe: a guardrail that cannot decide denies.
            let outcome = decided.unwrap_or_else(|e| {
                let reason = format!("The request could not be checked ({e}), so it is denied.");
                Outcome {
                    text: reason.clone(),
                    refused: Some(reason),
                    ..Outcome::default()
                }
            });
            steps.push(step(
                "guardrail",
                &format!("values requested by role {}", request.role.name()),
                if outcome.refused.is_some() {
                    "denied"
                } else {
                    "ok"
                },
                t,
                tools,
            ));
            timings.guard_ms += ms(t);
            return Ok(self.wrap_up(
                request,
                session_id,
                &ctx.words,
                outcome,
                reading.intent,
                steps,
                timings,
                &kb,
                started,
                previous,
                remember,
            ));
        }

        // Executor, evaluator and fallbacks.
        let mut plans = vec![reading.intent];
        let fallback = match reading.intent {
            Intent::Discovery | Intent::Describe => Intent::Listing,
            Intent::Listing => Intent::Discovery,
            _ => Intent::Describe,
        };
        plans.push(fallback);
        let mut outcome = Outcome::default();
        let mut used = reading.intent;
        for (attempt, plan) in plans.iter().enumerate() {
            let t = Instant::now();
            let before = kb.calls().len();
            let agent = match plan {
                Intent::Upstream | Intent::Downstream => "lineage",
                Intent::Describe => "metadata",
                _ => "executor",
            };
            let result = answer::execute(&ctx, *plan);
            let tools = kb.calls()[before..].to_vec();
            timings.execute_ms += ms(t);
            match result {
                Ok(o) => {
                    steps.push(step(
                        agent,
                        &format!("run the {} plan", plan.name()),
                        "ok",
                        t,
                        tools,
                    ));
                    if *plan == Intent::Describe && o.entities.len() == 1 {
                        steps.push(Step {
                            agent: "metadata",
                            action: "enrich descriptions: skipped, no language model".to_owned(),
                            outcome: "ok",
                            ms: 0.0,
                            tools: Vec::new(),
                        });
                    }
                    let te = Instant::now();
                    let verdict = evaluate(&kb, &o, *plan);
                    timings.evaluate_ms += ms(te);
                    match verdict {
                        Ok(()) => {
                            steps.push(step(
                                "evaluator",
                                "grounded and consistent",
                                "ok",
                                te,
                                Vec::new(),
                            ));
                            outcome = o;
                            used = *plan;
                            break;
                        }
                        Err(why) => {
                            let last = attempt + 1 == plans.len();
                            steps.push(step(
                                "evaluator",
                                &why,
                                if last { "error" } else { "fallback" },
                                te,
                                Vec::new(),
                            ));
                            if last {
                                outcome = Outcome {
                                    text: format!("I could not find a grounded answer: {why}"),
                                    refused: None,
                                    ..Outcome::default()
                                };
                                used = *plan;
                            }
                        }
                    }
                }
                Err(e) => {
                    let last = attempt + 1 == plans.len();
                    let timed_out = t.elapsed() >= self.config.step_timeout;
                    steps.push(step(
                        agent,
                        &format!(
                            "run the {} plan: {e}{}",
                            plan.name(),
                            if timed_out { " (cut off)" } else { "" }
                        ),
                        if last { "error" } else { "fallback" },
                        t,
                        tools,
                    ));
                    if last {
                        return Err(e);
                    }
                }
            }
        }
        // Clarification: an ambiguous term is listed, not guessed.
        if !outcome.choices.is_empty() && outcome.refused.is_none() {
            outcome.text.push_str(&format!(
                " Which one do you mean: {}?",
                text::join_names(
                    &outcome
                        .choices
                        .iter()
                        .map(|c| c.name.clone())
                        .collect::<Vec<_>>()
                )
            ));
        }
        Ok(self.wrap_up(
            request, session_id, &ctx.words, outcome, used, steps, timings, &kb, started, previous,
            remember,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn wrap_up(
        &self,
        request: &AskRequest,
        session_id: String,
        words: &[String],
        mut outcome: Outcome,
        intent: Intent,
        mut steps: Vec<Step>,
        mut timings: Timings,
        kb: &Kb<'_>,
        started: Instant,
        previous: Option<Session>,
        remember: bool,
    ) -> Answer {
        // Guardrail (output): personal values never leave in clear, and values the
        // policies protect leave only as they say.
        let t = Instant::now();
        outcome.text = guard::mask(&outcome.text);
        match self.policy_mask(request, &outcome.text) {
            Some(text) => outcome.text = text,
            None => {
                outcome.text = WITHHELD_ANSWER.to_owned();
                outcome.entities.clear();
            }
        }
        steps.push(step(
            "guardrail",
            "mask personal values in the answer",
            "ok",
            t,
            Vec::new(),
        ));
        timings.guard_ms += ms(t);
        timings.total_ms = ms(started);
        let calls = kb.calls();
        if outcome.refused.is_none()
            && remember
            && let Ok(mut s) = self.sessions.lock()
        {
            if s.len() >= self.config.max_sessions
                && let Some(oldest) = s.iter().min_by_key(|(_, v)| v.used).map(|(k, _)| k.clone())
            {
                s.remove(&oldest);
            }
            // A follow-up works on what the answer listed: at most `MAX_ENTITIES`, so that
            // conversations stay small however long an answer is.
            let mut entities = if outcome.entities.is_empty() {
                previous.map(|p| p.entities).unwrap_or_default()
            } else {
                outcome.entities.clone()
            };
            entities.truncate(MAX_ENTITIES);
            s.insert(
                session_id.clone(),
                Session {
                    entities,
                    intent,
                    words: words.to_vec(),
                    used: Instant::now(),
                },
            );
        }
        self.finish(request, session_id, outcome, intent, steps, timings, calls)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        request: &AskRequest,
        session: String,
        outcome: Outcome,
        intent: Intent,
        steps: Vec<Step>,
        timings: Timings,
        calls: Vec<ToolCall>,
    ) -> Answer {
        let mut outcome = outcome;
        outcome.entities.truncate(MAX_ENTITIES);
        let mut citations: Vec<String> = outcome.entities.iter().map(|e| e.iri.clone()).collect();
        citations.dedup();
        for c in &calls {
            if c.tool == "sparql" && !citations.contains(&c.input) {
                citations.push(c.input.clone());
            }
        }
        let refused = outcome.refused.is_some();
        Answer {
            answer: outcome.text,
            entities: outcome.entities,
            value: outcome.value,
            refused,
            reason: outcome.refused,
            citations,
            mode: "offline",
            timings,
            session,
            intent: intent.name(),
            choices: outcome.choices,
            plan: request.explain.then_some(steps),
            tool_calls: calls,
        }
    }
}

impl std::fmt::Debug for Asker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Asker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What replaces an answer the policies could not be checked against.
const WITHHELD_ANSWER: &str =
    "The answer could not be checked against the policies, so it is withheld.";

impl Asker {
    /// `text` with every value the asker's policies protect masked; `None` when the
    /// policies could not be consulted (the text must then be withheld).
    pub(crate) fn policy_mask(&self, request: &AskRequest, text: &str) -> Option<String> {
        let Some(engine) = &self.policy else {
            return Some(text.to_owned());
        };
        match engine.masker(
            &request.scope,
            &subject_of(request),
            request.purpose.as_deref(),
        ) {
            Ok(m) => Some(m.text(text).unwrap_or_else(|| text.to_owned())),
            Err(e) => {
                tracing::warn!(error = %e, "masking failed; withholding");
                None
            }
        }
    }
}

/// The asker as the policy engine knows them.
fn subject_of(request: &AskRequest) -> govgraph_policy::Subject {
    request
        .subject
        .clone()
        .unwrap_or_else(|| govgraph_policy::Subject::with_role(request.role.name()))
}

impl Default for Asker {
    fn default() -> Self {
        Self::new(AskConfig::default())
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn step(
    agent: &'static str,
    action: &str,
    outcome: &'static str,
    t: Instant,
    tools: Vec<ToolCall>,
) -> Step {
    Step {
        agent,
        action: action.to_owned(),
        outcome,
        ms: ms(t),
        tools,
    }
}

/// Entities checked against the graph per answer at most.
const GROUNDING_SAMPLE: usize = 200;

/// Entities an answer lists at most (its text and value still count them all).
pub const MAX_ENTITIES: usize = 1000;

/// The evaluator: every entity must exist in what the asker may read, and a count must equal
/// what it counts.
fn evaluate(kb: &Kb<'_>, o: &Outcome, plan: Intent) -> Result<(), String> {
    if o.text.trim().is_empty() {
        return Err("the plan produced no answer".to_owned());
    }
    if plan == Intent::Count && o.value.is_none() {
        return Err("a count without a number".to_owned());
    }
    if !o.entities.is_empty() {
        // Every entity of a short answer; an even sample of a long one.
        let step = o.entities.len().div_ceil(GROUNDING_SAMPLE).max(1);
        let iris: Vec<String> = o
            .entities
            .iter()
            .step_by(step)
            .map(|e| e.iri.clone())
            .collect();
        let rows = kb
            .select(&format!(
                "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {} FILTER EXISTS {{ ?x ?p ?o }} }}",
                values("x", &iris)
            ))
            .map_err(|e| format!("grounding check failed: {e}"))?;
        let found = rows.first().and_then(|r| kb::number(r, "n")).unwrap_or(0.0) as usize;
        let distinct = iris.iter().collect::<std::collections::BTreeSet<_>>().len();
        if found != distinct {
            return Err(format!(
                "{} of {distinct} entities are not in the graph",
                distinct - found
            ));
        }
    }
    Ok(())
}

/// `bronze.orders`, `orders.amount`, `bronze.customers.email`: a dataset, or the columns of a
/// dataset whose name is or contains the last part.
fn resolve_dotted(kb: &Kb<'_>, lex: &Lexicon, reference: &str) -> crate::error::Result<Vec<Entry>> {
    if let Some(e) = lex.dataset(reference) {
        return Ok(vec![e.clone()]);
    }
    let Some((ds, col)) = reference.rsplit_once('.') else {
        return Ok(Vec::new());
    };
    let Some(dataset) = lex.dataset(ds) else {
        return Ok(Vec::new());
    };
    let columns = facts::columns_of(kb, lex, std::slice::from_ref(&dataset.iri))?;
    let name = |c: &facts::ColumnFacts| c.r.name.rsplit('.').next().unwrap_or("").to_lowercase();
    let exact: Vec<Entry> = columns
        .iter()
        .filter(|c| name(c) == col)
        .map(|c| c.r.entry())
        .collect();
    if !exact.is_empty() {
        return Ok(exact);
    }
    // "orders.amount": every column with "amount" among its words.
    Ok(columns
        .iter()
        .filter(|c| {
            text::words(&name(c))
                .iter()
                .any(|w| w == col || text::singular(w) == text::singular(col))
        })
        .map(|c| c.r.entry())
        .collect())
}

/// Columns of the linked datasets named in the question's other words: "the email column",
/// "email of bronze.customers", "customers email".
fn column_words(
    kb: &Kb<'_>,
    lex: &Lexicon,
    datasets: &[String],
    words: &[String],
    spans: &[(usize, usize)],
) -> crate::error::Result<Vec<(Entry, (usize, usize))>> {
    let columns = facts::columns_of(kb, lex, datasets)?;
    let starts_dataset = |i: usize| spans.iter().any(|(s, _)| *s == i);
    let ends_dataset = |i: usize| spans.iter().any(|(_, e)| *e == i);
    let inside = |i: usize| spans.iter().any(|(s, e)| i >= *s && i < *e);
    let is = |i: usize, set: &[&str]| words.get(i).is_some_and(|w| set.contains(&w.as_str()));
    let mut out = Vec::new();
    for c in &columns {
        let name = c.r.name.rsplit('.').next().unwrap_or("");
        let parts = text::words(name);
        if parts.is_empty() {
            continue;
        }
        let n = parts.len();
        for i in 0..words.len().saturating_sub(n - 1) {
            if (i..i + n).any(inside)
                || !words[i..i + n]
                    .iter()
                    .zip(&parts)
                    .all(|(a, b)| a == b || text::singular(a) == *b)
            {
                continue;
            }
            let before = i.checked_sub(1);
            let named = is(
                i + n,
                &["column", "columns", "field", "fields", "attribute"],
            ) || before.is_some_and(|b| is(b, &["column", "field"]))
                || (is(i + n, &["of", "in", "from"])
                    && (starts_dataset(i + n + 1)
                        || (is(i + n + 1, &["the", "table", "dataset"])
                            && starts_dataset(i + n + 2))))
                || ends_dataset(i)
                || (before.is_some_and(|b| is(b, &["s"]) && ends_dataset(b)));
            if named && !before.is_some_and(|b| is(b, &["quality"])) {
                out.push((c.r.entry(), (i, i + n)));
                break;
            }
        }
    }
    Ok(out)
}
