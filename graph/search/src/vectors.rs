//! The vector index: hnsw_rs over quantised vectors, one graph point per distinct vector,
//! with tombstones for deletes and updates, persisted to disk.
//!
//! - **Quantised.** A vector is stored as one signed byte per dimension, scaled so that its
//!   largest component is ±127, followed by four bytes holding the inverse of its quantised
//!   length. [`QuantCosine`] computes the cosine from the bytes in integer arithmetic. A
//!   point takes a quarter of the memory of 32-bit floats, and the graph's memory is most of
//!   what search costs.
//! - **One point per distinct vector.** Catalogs repeat themselves: the same column name,
//!   type and description turn up in hundreds of tables, and each of them has the same
//!   vector. The graph holds each distinct vector once, and the entities that share it hang
//!   off that point. A graph full of identical points is also a poor graph: its neighbour
//!   lists fill with copies, and a search cannot get past them.
//! - **Tombstones.** hnsw_rs cannot delete or replace a point. An update links the entity's
//!   new vector under a fresh entity id and tombstones the old id; a delete only tombstones.
//!   Searches skip tombstones. When they pass a quarter of the entities,
//!   [`VectorIndex::needs_rebuild`] says so and the owner rebuilds from its documents.
//! - **Labels.** Each entity carries a one-byte label that the owner chooses (the search
//!   index puts the entity's kind and PII flag in it), and a search can be confined to some
//!   labels. The index counts its live entities per label, so a filtered search asks the
//!   graph for just enough points that about `k` entities pass, filters them in memory, and
//!   asks once more, for four times as many, only when too few did. (hnsw_rs's own filtered search never stops
//!   its walk early, which made a filtered search at a million points a hundred times
//!   slower than an unfiltered one.) The index also lists the points that hold each label:
//!   when a filter passes so few points that comparing the query with each of them costs
//!   less than a walk of the graph (or than the second walk), it does that instead, and the
//!   answer is exact. (Walking
//!   the graph for a selective filter is also where an approximate search fails: the
//!   nearest points all fail the filter, and the walk must go on far past them.)

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use hnsw_rs::anndists::dist::Distance;
use hnsw_rs::api::AnnT;
use hnsw_rs::hnsw::{Hnsw, Point as GraphPoint};
use hnsw_rs::hnswio::HnswIo;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const MAX_CONNECTIONS: usize = 16;
const MAX_LAYER: usize = 16;
const EF_CONSTRUCTION: usize = 64;
/// The narrowest beam a search walks the graph with.
const MIN_EF: usize = 128;
/// A filtered search compares the query with every point that holds an accepted label,
/// instead of walking the graph, when there are at most this many per point of the beam
/// the walk would have (comparing with a point costs a few cache misses; a walk costs
/// about this many comparisons' time per point of its beam).
const SCAN_PER_BEAM: usize = 8;
/// ...and, once a walk found too few entities that pass, when there are at most this many
/// per point of the next walk's beam. Beyond that the search walks once more, four times
/// as wide, and answers with what passed.
const SCAN_AFTER_MISS_PER_BEAM: usize = 32;
/// No graph point: the entity's vector was zero.
const NO_POINT: u32 = u32::MAX;
/// The end of a point's list of entities.
const END: u32 = u32::MAX;

/// Bytes after the components: the inverse length, as little-endian `f32` bits.
const NORM_BYTES: usize = 4;

/// Cosine distance between quantised vectors (see [`quantize`]): one minus the dot product
/// of the components, times both inverse lengths.
///
/// The dot product runs in 32-bit integer lanes that the compiler turns into SIMD; it cannot
/// overflow, since each product is at most 127² and a vector has far fewer than 2¹⁷
/// dimensions.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuantCosine;

fn inverse_norm(v: &[i8]) -> f32 {
    let mut bytes = [0u8; NORM_BYTES];
    for (b, x) in bytes
        .iter_mut()
        .zip(&v[v.len().saturating_sub(NORM_BYTES)..])
    {
        *b = x.to_ne_bytes()[0];
    }
    f32::from_le_bytes(bytes)
}

impl Distance<i8> for QuantCosine {
    fn eval(&self, a: &[i8], b: &[i8]) -> f32 {
        let n = a.len().min(b.len()).saturating_sub(NORM_BYTES);
        let (chunks_a, rest_a) = a[..n].as_chunks::<32>();
        let (chunks_b, rest_b) = b[..n].as_chunks::<32>();
        let mut lanes = [0i32; 32];
        for (x, y) in chunks_a.iter().zip(chunks_b) {
            for i in 0..32 {
                lanes[i] += i32::from(x[i]) * i32::from(y[i]);
            }
        }
        let dot = lanes.iter().sum::<i32>()
            + rest_a
                .iter()
                .zip(rest_b)
                .map(|(x, y)| i32::from(*x) * i32::from(*y))
                .sum::<i32>();
        let cosine = dot as f32 * inverse_norm(a) * inverse_norm(b);
        (1.0 - cosine).max(0.0)
    }
}

/// The stored form of a vector: each component scaled so that the largest is ±127 and
/// rounded, then the inverse of the rounded vector's length. `None` for a vector with no
/// direction (zero, or not finite).
pub fn quantize(v: &[f32]) -> Option<Vec<i8>> {
    if v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        return None;
    }
    let scale = 127.0 / max;
    let mut q: Vec<i8> = Vec::with_capacity(v.len() + NORM_BYTES);
    // Each component is within ±127 after scaling, so the cast cannot saturate.
    q.extend(
        v.iter()
            .map(|x| (x * scale).round().clamp(-127.0, 127.0) as i8),
    );
    let norm = q.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let inverse = (1.0 / norm) as f32;
    q.extend(inverse.to_le_bytes().map(|b| i8::from_ne_bytes([b])));
    Some(q)
}

/// Point ids, entities and tombstones, saved beside the graph files.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ids {
    dimension: usize,
    /// One per entity id.
    iris: Vec<Arc<str>>,
    /// One per entity id.
    labels: Vec<u8>,
    /// One per entity id: its graph point, or [`NO_POINT`].
    points: Vec<u32>,
    tombstones: Vec<usize>,
}

/// An approximate nearest-neighbour index of entity vectors.
pub struct VectorIndex {
    dimension: usize,
    hnsw: Hnsw<'static, i8, QuantCosine>,
    /// Entity id -> entity, and back; the two share each IRI.
    iris: Vec<Arc<str>>,
    labels: Vec<u8>,
    /// Entity id -> graph point.
    points: Vec<u32>,
    /// Graph point -> its most recent entity id; entity id -> the one linked before it.
    heads: Vec<u32>,
    next: Vec<u32>,
    /// Graph point of each distinct vector, by a 128-bit hash of its bytes.
    by_vector: HashMap<u128, u32>,
    hashers: (RandomState, RandomState),
    /// Live entities per label.
    label_counts: Box<[usize; 256]>,
    /// The points that hold an entity with each label (deleted entities' too: a search
    /// checks each entity).
    label_points: Vec<Vec<u32>>,
    point_labels: HashSet<(u32, u8)>,
    /// Each graph point, by our point id, filled in when a search first needs them.
    point_refs: RwLock<Vec<Option<Arc<GraphPoint<'static, i8>>>>>,
    by_iri: HashMap<Arc<str>, usize>,
    tombstones: HashSet<usize>,
}

/// A point to insert: the entity, its vector and its label.
pub type Point = (String, Vec<f32>, u8);

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dimension", &self.dimension)
            .field("entities", &self.iris.len())
            .field("points", &self.heads.len())
            .field("tombstones", &self.tombstones.len())
            .finish()
    }
}

fn new_hnsw(capacity: usize) -> Hnsw<'static, i8, QuantCosine> {
    let mut h = Hnsw::new(
        MAX_CONNECTIONS,
        capacity.max(1024),
        MAX_LAYER,
        EF_CONSTRUCTION,
        QuantCosine,
    );
    h.set_searching_mode(false);
    h
}

impl VectorIndex {
    /// An empty index for vectors of `dimension` floats, sized for about `capacity` points.
    pub fn new(dimension: usize, capacity: usize) -> Self {
        Self {
            dimension,
            hnsw: new_hnsw(capacity),
            iris: Vec::new(),
            labels: Vec::new(),
            points: Vec::new(),
            heads: Vec::new(),
            next: Vec::new(),
            by_vector: HashMap::new(),
            hashers: (RandomState::new(), RandomState::new()),
            label_counts: Box::new([0; 256]),
            label_points: vec![Vec::new(); 256],
            point_labels: HashSet::new(),
            point_refs: RwLock::new(Vec::new()),
            by_iri: HashMap::new(),
            tombstones: HashSet::new(),
        }
    }

    /// Live entities.
    pub fn len(&self) -> usize {
        self.by_iri.len()
    }

    /// Whether there is no live entity.
    pub fn is_empty(&self) -> bool {
        self.by_iri.is_empty()
    }

    /// Points in the graph: the distinct vectors ever inserted.
    pub fn points(&self) -> usize {
        self.heads.len()
    }

    /// The vector length.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Whether tombstones have grown past a quarter of all entity ids.
    pub fn needs_rebuild(&self) -> bool {
        self.tombstones.len() > 1000 && self.tombstones.len() * 4 > self.iris.len()
    }

    fn check(&self, v: &[f32]) -> Result<()> {
        if v.len() == self.dimension {
            Ok(())
        } else {
            Err(Error::Embedding(format!(
                "vector of length {} where the index holds {}",
                v.len(),
                self.dimension
            )))
        }
    }

    fn key(&self, q: &[i8]) -> u128 {
        (u128::from(self.hashers.0.hash_one(q)) << 64) | u128::from(self.hashers.1.hash_one(q))
    }

    /// Adds or replaces the vectors (and labels) of some entities. Vectors the graph does
    /// not hold yet are inserted on all cores.
    pub fn upsert(&mut self, items: Vec<Point>) -> Result<()> {
        for (_, v, _) in &items {
            self.check(v)?;
        }
        if self.iris.len() + items.len() >= END as usize {
            return Err(Error::Vectors(format!("more than {END} vectors")));
        }
        let mut fresh: Vec<(Vec<i8>, usize)> = Vec::new();
        for (iri, v, label) in items {
            let iri: Arc<str> = iri.into();
            if let Some(old) = self.by_iri.remove(&iri) {
                self.bury(old);
            }
            let id = self.iris.len();
            // A vector with no direction is kept out of the graph.
            let point = match quantize(&v) {
                None => NO_POINT,
                Some(q) => {
                    let key = self.key(&q);
                    match self.by_vector.get(&key) {
                        Some(p) => *p,
                        None => {
                            // Fewer points than entity ids, which were checked above.
                            let p = self.heads.len() as u32;
                            self.by_vector.insert(key, p);
                            self.heads.push(END);
                            fresh.push((q, p as usize));
                            p
                        }
                    }
                }
            };
            self.iris.push(iri.clone());
            self.labels.push(label);
            self.points.push(point);
            self.next.push(END);
            self.link(id, point, label);
            self.label_counts[usize::from(label)] += 1;
            self.by_iri.insert(iri, id);
        }
        let refs: Vec<(&Vec<i8>, usize)> = fresh.iter().map(|(v, p)| (v, *p)).collect();
        if refs.len() > 64 {
            self.hnsw.parallel_insert(&refs);
        } else {
            for (v, p) in refs {
                self.hnsw.insert((v.as_slice(), p));
            }
        }
        Ok(())
    }

    /// Puts entity `id` (labelled `label`) at the head of `point`'s list.
    fn link(&mut self, id: usize, point: u32, label: u8) {
        if let Some(head) = self.heads.get_mut(point as usize) {
            self.next[id] = *head;
            *head = id as u32;
            if self.point_labels.insert((point, label)) {
                self.label_points[usize::from(label)].push(point);
            }
        }
    }

    /// Tombstones an entity's vector.
    pub fn remove(&mut self, iri: &str) {
        if let Some(old) = self.by_iri.remove(iri) {
            self.bury(old);
        }
    }

    fn bury(&mut self, id: usize) {
        if self.tombstones.insert(id)
            && let Some(label) = self.labels.get(id)
        {
            let count = &mut self.label_counts[usize::from(*label)];
            *count = count.saturating_sub(1);
        }
    }

    /// Whether the entity has a vector.
    pub fn contains(&self, iri: &str) -> bool {
        self.by_iri.contains_key(iri)
    }

    /// The `k` live entities nearest to `query` whose label `accept` takes (all of them
    /// without one), with their cosine similarity. Entities that share a vector come
    /// newest first.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        accept: Option<&dyn Fn(u8) -> bool>,
    ) -> Result<Vec<(String, f32)>> {
        self.check(query)?;
        let points = self.heads.len();
        let Some(query) = quantize(query) else {
            return Ok(Vec::new());
        };
        // Entities that may be returned: live, with an accepted label.
        let passing: usize = match accept {
            None => self.by_iri.len(),
            Some(a) => (0..=255u8)
                .filter(|l| a(*l))
                .map(|l| self.label_counts[usize::from(l)])
                .sum(),
        };
        if k == 0 || passing == 0 || points == 0 {
            return Ok(Vec::new());
        }
        let per_point = passing as f64 / points as f64;
        let mut want = ((k as f64 / per_point) * 1.2).ceil() as usize;
        want = want.clamp(1, points);
        let labels: Vec<usize> = match accept {
            Some(a) => (0..=255u8).filter(|l| a(*l)).map(usize::from).collect(),
            None => Vec::new(),
        };
        let candidates: usize = labels.iter().map(|l| self.label_points[*l].len()).sum();
        let scan = |query: &[i8]| {
            let points = labels
                .iter()
                .flat_map(|l| self.label_points[*l].iter().copied());
            self.scan(query, points, k, accept)
        };
        if accept.is_some() && candidates <= SCAN_PER_BEAM * (want + want / 4).max(MIN_EF) {
            return Ok(scan(&query));
        }
        // Ask the graph for enough points that about k entities pass, and a fifth more. If
        // fewer than half of k passed after all (the entities that pass are not spread evenly
        // over the graph), compare the query with every candidate if that is cheap enough,
        // else ask once more for four times as many points.
        let mut retried = false;
        loop {
            let ef = (want + want / 4).max(MIN_EF);
            let found = self.hnsw.search(&query, want, ef);
            let exhausted = found.len() < want || want == points;
            let out = self.expand(found.iter().map(|n| (n.d_id, n.distance)), k, accept);
            if out.len() * 2 >= k || exhausted || retried {
                return Ok(out);
            }
            retried = true;
            want = want.saturating_mul(4).min(points);
            let ef = (want + want / 4).max(MIN_EF);
            if accept.is_some() && candidates <= SCAN_AFTER_MISS_PER_BEAM * ef {
                return Ok(scan(&query));
            }
        }
    }

    /// Compares the query with each of `points` (repeats allowed), nearest first: the first
    /// `k` live, accepted entities.
    fn scan(
        &self,
        query: &[i8],
        points: impl Iterator<Item = u32>,
        k: usize,
        accept: Option<&dyn Fn(u8) -> bool>,
    ) -> Vec<(String, f32)> {
        let refs = self.point_refs();
        let mut scored: Vec<(usize, f32)> = points
            .filter_map(|p| {
                let point = refs.get(p as usize)?.as_ref()?;
                Some((p as usize, QuantCosine.eval(query, point.get_v())))
            })
            .collect();
        let order = |a: &(usize, f32), b: &(usize, f32)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
        // Most often the nearest few points hold k entities that pass: order those first,
        // and the rest only when they do not.
        let head = (2 * k).min(scored.len());
        if head < scored.len() {
            scored.select_nth_unstable_by(head, order);
            let mut first = scored[..head].to_vec();
            first.sort_by(order);
            first.dedup_by_key(|(p, _)| *p);
            let out = self.expand(first.into_iter(), k, accept);
            if out.len() >= k {
                return out;
            }
        }
        scored.sort_by(order);
        scored.dedup_by_key(|(p, _)| *p);
        self.expand(scored.into_iter(), k, accept)
    }

    /// Each graph point by our point id; read from the graph again when points were added
    /// since.
    #[allow(clippy::type_complexity)]
    fn point_refs(&self) -> RwLockReadGuard<'_, Vec<Option<Arc<GraphPoint<'static, i8>>>>> {
        {
            let refs = self
                .point_refs
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if refs.len() == self.heads.len() {
                return refs;
            }
        }
        {
            let mut refs = self
                .point_refs
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if refs.len() != self.heads.len() && !self.heads.is_empty() {
                let mut fresh = vec![None; self.heads.len()];
                for p in self.hnsw.get_point_indexation() {
                    if let Some(slot) = fresh.get_mut(p.get_origin_id()) {
                        *slot = Some(p);
                    }
                }
                *refs = fresh;
            }
        }
        self.point_refs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The first `k` live, accepted entities of graph points in the order given.
    fn expand(
        &self,
        found: impl Iterator<Item = (usize, f32)>,
        k: usize,
        accept: Option<&dyn Fn(u8) -> bool>,
    ) -> Vec<(String, f32)> {
        let mut out = Vec::with_capacity(k.min(1024));
        for (point, distance) in found {
            let mut id = self.heads.get(point).copied().unwrap_or(END);
            while id != END && out.len() < k {
                let i = id as usize;
                let passes = !self.tombstones.contains(&i)
                    && accept.is_none_or(|a| self.labels.get(i).is_some_and(|l| a(*l)));
                if passes && let Some(iri) = self.iris.get(i) {
                    out.push((iri.to_string(), 1.0 - distance));
                }
                id = self.next.get(i).copied().unwrap_or(END);
            }
            if out.len() >= k {
                break;
            }
        }
        out
    }

    /// The `k` live entities nearest to `query` by an exhaustive scan of every point: the
    /// reference the approximate [`search`](Self::search) is measured against (its recall).
    pub fn exact_search(&self, query: &[f32], k: usize) -> Result<Vec<(String, f32)>> {
        self.check(query)?;
        let Some(query) = quantize(query) else {
            return Ok(Vec::new());
        };
        if self.heads.is_empty() {
            // (hnsw_rs's iterator over an empty graph panics.)
            return Ok(Vec::new());
        }
        let mut all: Vec<(usize, f32)> = self
            .hnsw
            .get_point_indexation()
            .into_iter()
            .map(|p| (p.get_origin_id(), QuantCosine.eval(&query, p.get_v())))
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        Ok(self.expand(all.into_iter(), k, None))
    }

    /// Writes the index into `dir` (created; must not exist).
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        if self.hnsw.get_nb_point() > 0 {
            self.hnsw
                .file_dump(dir, "vectors")
                .map_err(|e| Error::Vectors(format!("saving {}: {e}", dir.display())))?;
        }
        let ids = Ids {
            dimension: self.dimension,
            iris: self.iris.clone(),
            labels: self.labels.clone(),
            points: self.points.clone(),
            tombstones: {
                let mut t: Vec<usize> = self.tombstones.iter().copied().collect();
                t.sort_unstable();
                t
            },
        };
        let path = dir.join("ids.json");
        std::fs::write(&path, serde_json::to_vec(&ids)?)?;
        Ok(())
    }

    /// Reads an index written by [`save`](Self::save).
    pub fn load(dir: &Path) -> Result<Self> {
        let ids: Ids = serde_json::from_slice(&std::fs::read(dir.join("ids.json"))?)?;
        let bad = |what: String| Error::Vectors(format!("{}: {what}", dir.display()));
        if ids.labels.len() != ids.iris.len() || ids.points.len() != ids.iris.len() {
            return Err(bad(format!(
                "{} labels and {} points for {} entities",
                ids.labels.len(),
                ids.points.len(),
                ids.iris.len()
            )));
        }
        if ids.iris.len() >= END as usize {
            return Err(bad(format!("more than {END} vectors")));
        }
        let mut index = Self::new(ids.dimension, ids.iris.len());
        if dir.join("vectors.hnsw.graph").exists() {
            // HnswIo must outlive the Hnsw it loads (hnsw_rs ties their lifetimes). It is
            // small, and loads happen once per process start or rebuild, so it is leaked.
            let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, "vectors")));
            let mut h: Hnsw<'static, i8, QuantCosine> = io
                .load_hnsw()
                .map_err(|e| bad(format!("loading the graph: {e}")))?;
            h.set_searching_mode(false);
            index.hnsw = h;
        }
        let points = index.hnsw.get_nb_point();
        index.heads = vec![END; points];
        // (hnsw_rs's iterator over an empty graph panics.)
        let keys: Vec<(usize, u128)> = if points == 0 {
            Vec::new()
        } else {
            index
                .hnsw
                .get_point_indexation()
                .into_iter()
                .map(|p| (p.get_origin_id(), index.key(p.get_v())))
                .collect()
        };
        for (p, key) in keys {
            if p >= points {
                return Err(bad(format!("point {p} of {points}")));
            }
            index.by_vector.insert(key, p as u32);
        }
        index.tombstones = ids.tombstones.into_iter().collect();
        index.next = vec![END; ids.iris.len()];
        for (id, point) in ids.points.iter().enumerate() {
            if *point != NO_POINT && *point as usize >= points {
                return Err(bad(format!("entity {id} on point {point} of {points}")));
            }
            index.link(id, *point, ids.labels[id]);
            if !index.tombstones.contains(&id) {
                index.label_counts[usize::from(ids.labels[id])] += 1;
                index.by_iri.insert(Arc::clone(&ids.iris[id]), id);
            }
        }
        index.iris = ids.iris;
        index.labels = ids.labels;
        index.points = ids.points;
        Ok(index)
    }
}

/// The directory of vector generation `generation` under `root`.
pub fn generation_dir(root: &Path, generation: u64) -> PathBuf {
    root.join(format!("vectors-{generation:08}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A pseudo-random vector per seed (points in general position, as embeddings are).
    fn unit(i: usize, dim: usize) -> Vec<f32> {
        let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (0..dim)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 2000) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn cosine(a: &[f32], b: &[f32]) -> f64 {
        let dot: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum();
        let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        dot / (norm(a) * norm(b))
    }

    #[test]
    fn quantised_cosine_is_close_to_the_cosine() {
        for (i, dim) in [(1, 256), (2, 37), (3, 16), (4, 5), (5, 384)] {
            let (a, b) = (unit(i, dim), unit(i + 100, dim));
            // Scale does not matter, and a vector's own distance is zero.
            let qa = quantize(&a.iter().map(|x| x * 3.5).collect::<Vec<_>>()).unwrap();
            let qb = quantize(&b).unwrap();
            assert_eq!(qa.len(), dim + NORM_BYTES);
            let d = f64::from(QuantCosine.eval(&qa, &qb));
            let exact = 1.0 - cosine(&a, &b);
            assert!((d - exact).abs() < 0.01, "dim {dim}: {d} vs {exact}");
            assert!(QuantCosine.eval(&qa, &qa).abs() < 1e-4);
            // Opposite directions are as far as can be.
            let neg = quantize(&a.iter().map(|x| -x).collect::<Vec<_>>()).unwrap();
            assert!((QuantCosine.eval(&qa, &neg) - 2.0).abs() < 1e-3);
        }
        // The order of neighbours survives quantisation: near vectors stay nearer.
        let base = unit(7, 256);
        let near: Vec<f32> = base
            .iter()
            .zip(unit(8, 256))
            .map(|(x, y)| x + 0.2 * y)
            .collect();
        let far: Vec<f32> = base.iter().zip(unit(9, 256)).map(|(x, y)| x + y).collect();
        let (qb, qn, qf) = (
            quantize(&base).unwrap(),
            quantize(&near).unwrap(),
            quantize(&far).unwrap(),
        );
        assert!(QuantCosine.eval(&qb, &qn) < QuantCosine.eval(&qb, &qf));
        assert!(quantize(&[0.0; 8]).is_none());
        assert!(quantize(&[f32::NAN, 1.0]).is_none());
        assert!(quantize(&[f32::INFINITY, 1.0]).is_none());
    }

    #[test]
    fn upsert_search_delete_persist() {
        let dim = 32;
        let mut idx = VectorIndex::new(dim, 100);
        idx.upsert(
            (0..50)
                .map(|i| (format!("e{i}"), unit(i, dim), (i % 2) as u8))
                .collect(),
        )
        .unwrap();
        assert_eq!(idx.search(&unit(3, dim), 1, None).unwrap()[0].0, "e3");
        // Move e3 to an empty direction: the old point is tombstoned.
        idx.upsert(vec![("e3".into(), unit(600, dim), 1)]).unwrap();
        assert_ne!(idx.search(&unit(3, dim), 1, None).unwrap()[0].0, "e3");
        assert_eq!(idx.search(&unit(600, dim), 1, None).unwrap()[0].0, "e3");
        assert_eq!(idx.len(), 50);
        idx.remove("e19");
        assert!(
            idx.search(&unit(19, dim), 5, None)
                .unwrap()
                .iter()
                .all(|(i, _)| i != "e19")
        );
        let dir = tempfile::tempdir().unwrap();
        let gen_dir = generation_dir(dir.path(), 1);
        idx.save(&gen_dir).unwrap();
        let back = VectorIndex::load(&gen_dir).unwrap();
        assert_eq!(back.len(), idx.len());
        assert_eq!(back.points(), idx.points());
        assert!(!back.contains("e19"));
        assert_eq!(back.search(&unit(7, dim), 1, None).unwrap()[0].0, "e7");
        assert!(idx.search(&[0.0; 3], 1, None).is_err());
        // Labels survive the round trip and confine a search: e7 has label 1, so a search
        // near it for label 0 finds only even points.
        let even = |label: u8| label == 0;
        let found = back.search(&unit(7, dim), 10, Some(&even)).unwrap();
        assert_eq!(found.len(), 10);
        assert!(
            found
                .iter()
                .all(|(i, _)| i[1..].parse::<usize>().unwrap() % 2 == 0),
            "{found:?}"
        );
        // The exhaustive scan agrees on a small index.
        assert_eq!(back.exact_search(&unit(7, dim), 1).unwrap()[0].0, "e7");
        assert!(
            back.exact_search(&unit(19, dim), 50)
                .unwrap()
                .iter()
                .all(|(i, _)| i != "e19")
        );
        // e3 moved and took label 1.
        let odd = |label: u8| label == 1;
        assert_eq!(
            back.search(&unit(600, dim), 1, Some(&odd)).unwrap()[0].0,
            "e3"
        );
    }

    #[test]
    fn an_index_without_points_saves_loads_and_answers_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // Empty, then holding only a zero vector (kept out of the graph).
        for (n, items) in [(1, vec![]), (2, vec![("zero".to_owned(), vec![0.0; 8], 0)])] {
            let mut idx = VectorIndex::new(8, 10);
            idx.upsert(items).unwrap();
            assert_eq!(idx.points(), 0);
            let gen_dir = generation_dir(dir.path(), n);
            idx.save(&gen_dir).unwrap();
            let back = VectorIndex::load(&gen_dir).unwrap();
            assert_eq!(back.points(), 0);
            let any = |_: u8| true;
            for index in [&idx, &back] {
                assert!(index.search(&[1.0; 8], 5, None).unwrap().is_empty());
                assert!(index.search(&[1.0; 8], 5, Some(&any)).unwrap().is_empty());
                assert!(index.exact_search(&[1.0; 8], 5).unwrap().is_empty());
            }
        }
    }

    #[test]
    fn entities_with_one_vector_share_one_point() {
        let dim = 24;
        let mut idx = VectorIndex::new(dim, 100);
        // Forty entities over ten distinct directions (scaled copies are the same direction),
        // labelled by their number's parity.
        idx.upsert(
            (0..40)
                .map(|i| {
                    let v: Vec<f32> = unit(i % 10, dim)
                        .iter()
                        .map(|x| x * (1 + i / 10) as f32)
                        .collect();
                    (format!("e{i}"), v, (i % 2) as u8)
                })
                .collect(),
        )
        .unwrap();
        assert_eq!((idx.len(), idx.points()), (40, 10));
        let names = |found: Vec<(String, f32)>| -> Vec<String> {
            found.into_iter().map(|(i, _)| i).collect()
        };
        // All four copies come back first, newest first, at the same similarity.
        let found = idx.search(&unit(3, dim), 4, None).unwrap();
        assert!(
            found
                .iter()
                .all(|(_, s)| (s - found[0].1).abs() < 1e-6 && *s > 0.99)
        );
        assert_eq!(names(found), ["e33", "e23", "e13", "e3"]);
        assert_eq!(
            names(idx.exact_search(&unit(3, dim), 4).unwrap()),
            ["e33", "e23", "e13", "e3"]
        );
        // A tombstoned copy is skipped, and the others still answer.
        idx.remove("e23");
        assert_eq!(
            names(idx.search(&unit(3, dim), 3, None).unwrap()),
            ["e33", "e13", "e3"]
        );
        // A filter that a single entity passes still finds it.
        idx.upsert(vec![("special".into(), unit(9, dim), 7)])
            .unwrap();
        assert_eq!(idx.points(), 10);
        let seven = |label: u8| label == 7;
        assert_eq!(
            names(idx.search(&unit(0, dim), 5, Some(&seven)).unwrap()),
            ["special"]
        );
        // Persisted and read back, the copies still share their point, and a new copy joins
        // it instead of adding one.
        let dir = tempfile::tempdir().unwrap();
        let gen_dir = generation_dir(dir.path(), 2);
        idx.save(&gen_dir).unwrap();
        let mut back = VectorIndex::load(&gen_dir).unwrap();
        assert_eq!((back.len(), back.points()), (40, 10));
        back.upsert(vec![("e3-again".into(), unit(3, dim), 1)])
            .unwrap();
        assert_eq!(back.points(), 10);
        assert_eq!(
            names(back.search(&unit(3, dim), 4, None).unwrap()),
            ["e3-again", "e33", "e13", "e3"]
        );
        let even = |label: u8| label == 0;
        assert_eq!(
            names(back.search(&unit(4, dim), 10, Some(&even)).unwrap())[..4],
            ["e34", "e24", "e14", "e4"]
        );
    }

    #[test]
    fn a_filter_that_the_nearest_points_fail_compares_the_query_with_every_candidate() {
        let dim = 16;
        let base = unit(1, dim);
        let mut idx = VectorIndex::new(dim, 1000);
        // 3,000 entities near `base` with label 0, then 3,000 in the opposite direction
        // with label 1: half of them pass the filter (too many to compare the query with
        // each at first), but none of the points the graph walk finds. The search then
        // compares the query with every point that holds label 1.
        let around = |sign: f32, i: usize| -> Vec<f32> {
            base.iter()
                .zip(unit(i, dim))
                .map(|(b, x)| sign * b + 0.3 * x)
                .collect()
        };
        idx.upsert(
            (0..3000)
                .map(|i| (format!("near{i}"), around(1.0, 10 + i), 0))
                .chain((0..3000).map(|i| (format!("far{i}"), around(-1.0, 10_000 + i), 1)))
                .collect(),
        )
        .unwrap();
        assert_eq!(idx.points(), 6000);
        assert!(idx.label_points[1].len() > SCAN_PER_BEAM * MIN_EF);
        let one = |label: u8| label == 1;
        let found = idx.search(&base, 10, Some(&one)).unwrap();
        assert_eq!(found.len(), 10);
        assert!(
            found.iter().all(|(i, s)| i.starts_with("far") && *s < 0.0),
            "{found:?}"
        );
        // And the answer is the exact one: the ten label-1 entities nearest to the query.
        let mut exact: Vec<(String, f32)> = idx
            .exact_search(&base, 6000)
            .unwrap()
            .into_iter()
            .filter(|(i, _)| i.starts_with("far"))
            .collect();
        exact.truncate(10);
        assert_eq!(found, exact);
    }
}
