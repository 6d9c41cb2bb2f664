//! The vector index: hnsw_rs, with tombstones for deletes and updates, persisted to disk.
//!
//! hnsw_rs cannot delete or replace a point. An update inserts the new vector under a fresh
//! id and tombstones the old one; a delete only tombstones. Searches filter tombstones out.
//! When tombstones pass a quarter of the points, [`VectorIndex::needs_rebuild`] says so and
//! the owner rebuilds from its documents.
//!
//! Each point carries a one-byte label that the owner chooses (the search index puts the
//! entity's kind and PII flag in it), and a search can be confined to some labels. The
//! index counts its live points per label, so a filtered search asks the graph for just
//! enough neighbours that about `k` of them pass, and filters them in memory. (hnsw_rs's
//! own filtered search never stops its walk early, which made a filtered search at a
//! million points a hundred times slower than an unfiltered one; tombstones are handled
//! the same way.)

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hnsw_rs::anndists::dist::Distance;
use hnsw_rs::api::AnnT;
use hnsw_rs::hnsw::Hnsw;
use hnsw_rs::hnswio::HnswIo;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const MAX_CONNECTIONS: usize = 16;
const MAX_LAYER: usize = 16;
const EF_CONSTRUCTION: usize = 64;

/// Cosine distance between unit vectors: one minus their dot product.
///
/// anndists' `DistCosine` sums in `f64` one lane at a time and recomputes both norms on
/// every call, which made distance evaluation most of an index build. Here vectors are
/// normalised once, before they are inserted or searched, and the dot product runs in
/// sixteen independent lanes the compiler turns into SIMD.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnitCosine;

impl Distance<f32> for UnitCosine {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        let (chunks_a, rest_a) = a.as_chunks::<16>();
        let (chunks_b, rest_b) = b.as_chunks::<16>();
        let mut lanes = [0f32; 16];
        for (x, y) in chunks_a.iter().zip(chunks_b) {
            for i in 0..16 {
                lanes[i] += x[i] * y[i];
            }
        }
        let dot =
            lanes.iter().sum::<f32>() + rest_a.iter().zip(rest_b).map(|(x, y)| x * y).sum::<f32>();
        (1.0 - dot).max(0.0)
    }
}

/// Scales `v` to unit length; false (and `v` untouched) for a zero vector, which has no
/// direction.
fn normalize(v: &mut [f32]) -> bool {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
        true
    } else {
        false
    }
}

/// Point ids and tombstones, saved beside the graph files.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ids {
    dimension: usize,
    iris: Vec<Arc<str>>,
    /// One per point, in id order.
    labels: Vec<u8>,
    tombstones: Vec<usize>,
}

/// An approximate nearest-neighbour index of entity vectors.
pub struct VectorIndex {
    dimension: usize,
    hnsw: Hnsw<'static, f32, UnitCosine>,
    /// Point id -> entity, and back; the two share each IRI.
    iris: Vec<Arc<str>>,
    labels: Vec<u8>,
    /// Live points per label.
    label_counts: Box<[usize; 256]>,
    by_iri: HashMap<Arc<str>, usize>,
    tombstones: HashSet<usize>,
}

/// A point to insert: the entity, its vector and its label.
pub type Point = (String, Vec<f32>, u8);

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dimension", &self.dimension)
            .field("points", &self.iris.len())
            .field("tombstones", &self.tombstones.len())
            .finish()
    }
}

fn new_hnsw(capacity: usize) -> Hnsw<'static, f32, UnitCosine> {
    let mut h = Hnsw::new(
        MAX_CONNECTIONS,
        capacity.max(1024),
        MAX_LAYER,
        EF_CONSTRUCTION,
        UnitCosine,
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
            label_counts: Box::new([0; 256]),
            by_iri: HashMap::new(),
            tombstones: HashSet::new(),
        }
    }

    /// Live points.
    pub fn len(&self) -> usize {
        self.by_iri.len()
    }

    /// Whether there is no live point.
    pub fn is_empty(&self) -> bool {
        self.by_iri.is_empty()
    }

    /// The vector length.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Whether tombstones have grown past a quarter of all points.
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

    /// Adds or replaces the vectors (and labels) of some entities, inserting on all cores.
    pub fn upsert(&mut self, items: Vec<Point>) -> Result<()> {
        let mut batch: Vec<(Vec<f32>, usize)> = Vec::with_capacity(items.len());
        for (iri, mut v, label) in items {
            self.check(&v)?;
            let iri: Arc<str> = iri.into();
            if let Some(old) = self.by_iri.remove(&iri) {
                self.bury(old);
            }
            let id = self.iris.len();
            self.iris.push(iri.clone());
            self.labels.push(label);
            self.label_counts[usize::from(label)] += 1;
            self.by_iri.insert(iri, id);
            // A zero vector has no direction; it is kept out of the graph.
            if normalize(&mut v) {
                batch.push((v, id));
            }
        }
        let refs: Vec<(&Vec<f32>, usize)> = batch.iter().map(|(v, id)| (v, *id)).collect();
        if refs.len() > 64 {
            self.hnsw.parallel_insert(&refs);
        } else {
            for (v, id) in refs {
                self.hnsw.insert((v.as_slice(), id));
            }
        }
        Ok(())
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
    /// without one), with their cosine similarity.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        accept: Option<&dyn Fn(u8) -> bool>,
    ) -> Result<Vec<(String, f32)>> {
        self.check(query)?;
        let mut query = query.to_vec();
        if self.by_iri.is_empty() || !normalize(&mut query) {
            return Ok(Vec::new());
        }
        let query = query.as_slice();
        // Points that may be returned (live, with an accepted label) are this share of the
        // graph: ask it for enough neighbours that about k of them pass, and a fifth more.
        let passing: usize = match accept {
            None => self.by_iri.len(),
            Some(a) => (0..=255u8)
                .filter(|l| a(*l))
                .map(|l| self.label_counts[usize::from(l)])
                .sum(),
        };
        if passing == 0 {
            return Ok(Vec::new());
        }
        let points = self.hnsw.get_nb_point().max(1);
        let share = (passing as f64 / points as f64).min(1.0);
        let want = ((k as f64 / share) * 1.2).ceil() as usize;
        let want = want.clamp(k, points.max(k));
        // The beam is a little wider than the answer: the fused ranking reads only its head.
        let ef = (want + want / 4).max(64);
        let labels = &self.labels;
        Ok(self
            .hnsw
            .search(query, want, ef)
            .into_iter()
            .filter(|n| !self.tombstones.contains(&n.d_id))
            .filter(|n| accept.is_none_or(|a| labels.get(n.d_id).is_some_and(|l| a(*l))))
            .take(k)
            .filter_map(|n| {
                self.iris
                    .get(n.d_id)
                    .map(|iri| (iri.to_string(), 1.0 - n.distance))
            })
            .collect())
    }

    /// The `k` live entities nearest to `query` by an exhaustive scan of every point: the
    /// reference the approximate [`search`](Self::search) is measured against (its recall).
    pub fn exact_search(&self, query: &[f32], k: usize) -> Result<Vec<(String, f32)>> {
        self.check(query)?;
        let mut query = query.to_vec();
        if self.by_iri.is_empty() || !normalize(&mut query) {
            return Ok(Vec::new());
        }
        let mut all: Vec<(f32, usize)> = self
            .hnsw
            .get_point_indexation()
            .into_iter()
            .map(|p| (UnitCosine.eval(&query, p.get_v()), p.get_origin_id()))
            .filter(|(_, id)| !self.tombstones.contains(id))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        Ok(all
            .into_iter()
            .take(k)
            .filter_map(|(d, id)| self.iris.get(id).map(|iri| (iri.to_string(), 1.0 - d)))
            .collect())
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
        if ids.labels.len() != ids.iris.len() {
            return Err(Error::Vectors(format!(
                "{}: {} labels for {} points",
                dir.display(),
                ids.labels.len(),
                ids.iris.len()
            )));
        }
        let hnsw = if dir.join("vectors.hnsw.graph").exists() {
            // HnswIo must outlive the Hnsw it loads (hnsw_rs ties their lifetimes). It is
            // small, and loads happen once per process start or rebuild, so it is leaked.
            let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, "vectors")));
            let mut h: Hnsw<'static, f32, UnitCosine> = io
                .load_hnsw()
                .map_err(|e| Error::Vectors(format!("loading {}: {e}", dir.display())))?;
            h.set_searching_mode(false);
            h
        } else {
            new_hnsw(ids.iris.len())
        };
        let tombstones: HashSet<usize> = ids.tombstones.into_iter().collect();
        let mut label_counts = Box::new([0usize; 256]);
        for (id, label) in ids.labels.iter().enumerate() {
            if !tombstones.contains(&id) {
                label_counts[usize::from(*label)] += 1;
            }
        }
        let by_iri = ids
            .iris
            .iter()
            .enumerate()
            .filter(|(i, _)| !tombstones.contains(i))
            .map(|(i, s)| (Arc::clone(s), i))
            .collect();
        Ok(Self {
            dimension: ids.dimension,
            hnsw,
            iris: ids.iris,
            labels: ids.labels,
            label_counts,
            by_iri,
            tombstones,
        })
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

    #[test]
    fn unit_cosine_is_one_minus_the_cosine() {
        for (i, dim) in [(1, 256), (2, 37), (3, 16), (4, 5)] {
            let (mut a, mut b) = (unit(i, dim), unit(i + 100, dim));
            let dot: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
            let cosine = dot / (norm(&a) * norm(&b));
            assert!(normalize(&mut a) && normalize(&mut b));
            let d = UnitCosine.eval(&a, &b);
            assert!(
                (f64::from(d) - (1.0 - cosine)).abs() < 1e-5,
                "dim {dim}: {d} vs {}",
                1.0 - cosine
            );
            assert!(UnitCosine.eval(&a, &a).abs() < 1e-5);
        }
        let mut zero = vec![0.0; 8];
        assert!(!normalize(&mut zero));
        assert!(zero.iter().all(|x| *x == 0.0));
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
}
