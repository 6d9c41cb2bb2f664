//! The vector index: hnsw_rs, with tombstones for deletes and updates, persisted to disk.
//!
//! hnsw_rs cannot delete or replace a point. An update inserts the new vector under a fresh
//! id and tombstones the old one; a delete only tombstones. Searches filter tombstones out.
//! When tombstones pass a quarter of the points, [`VectorIndex::needs_rebuild`] says so and
//! the owner rebuilds from its documents.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use hnsw_rs::anndists::dist::DistCosine;
use hnsw_rs::api::AnnT;
use hnsw_rs::hnsw::Hnsw;
use hnsw_rs::hnswio::HnswIo;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const MAX_CONNECTIONS: usize = 16;
const MAX_LAYER: usize = 16;
const EF_CONSTRUCTION: usize = 64;

/// Point ids and tombstones, saved beside the graph files.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ids {
    dimension: usize,
    iris: Vec<String>,
    tombstones: Vec<usize>,
}

/// An approximate nearest-neighbour index of entity vectors.
pub struct VectorIndex {
    dimension: usize,
    hnsw: Hnsw<'static, f32, DistCosine>,
    iris: Vec<String>,
    by_iri: HashMap<String, usize>,
    tombstones: HashSet<usize>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dimension", &self.dimension)
            .field("points", &self.iris.len())
            .field("tombstones", &self.tombstones.len())
            .finish()
    }
}

fn new_hnsw(capacity: usize) -> Hnsw<'static, f32, DistCosine> {
    let mut h = Hnsw::new(
        MAX_CONNECTIONS,
        capacity.max(1024),
        MAX_LAYER,
        EF_CONSTRUCTION,
        DistCosine {},
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

    /// Adds or replaces the vectors of some entities, inserting on all cores.
    pub fn upsert(&mut self, items: Vec<(String, Vec<f32>)>) -> Result<()> {
        let mut batch: Vec<(Vec<f32>, usize)> = Vec::with_capacity(items.len());
        for (iri, v) in items {
            self.check(&v)?;
            if let Some(old) = self.by_iri.remove(&iri) {
                self.tombstones.insert(old);
            }
            let id = self.iris.len();
            self.iris.push(iri.clone());
            self.by_iri.insert(iri, id);
            // A zero vector has no direction; it is kept out of the graph.
            if v.iter().any(|x| *x != 0.0) {
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
            self.tombstones.insert(old);
        }
    }

    /// Whether the entity has a vector.
    pub fn contains(&self, iri: &str) -> bool {
        self.by_iri.contains_key(iri)
    }

    /// The `k` live entities nearest to `query`, with their cosine similarity.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(String, f32)>> {
        self.check(query)?;
        if self.by_iri.is_empty() || query.iter().all(|x| *x == 0.0) {
            return Ok(Vec::new());
        }
        let ef = (k * 4).max(64);
        let tomb = &self.tombstones;
        let filter = |id: &usize| !tomb.contains(id);
        let found = if tomb.is_empty() {
            self.hnsw.search(query, k, ef)
        } else {
            self.hnsw.search_filter(query, k, ef, Some(&filter))
        };
        Ok(found
            .into_iter()
            .filter(|n| !tomb.contains(&n.d_id))
            .filter_map(|n| {
                self.iris
                    .get(n.d_id)
                    .map(|iri| (iri.clone(), 1.0 - n.distance))
            })
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
        let hnsw = if dir.join("vectors.hnsw.graph").exists() {
            // HnswIo must outlive the Hnsw it loads (hnsw_rs ties their lifetimes). It is
            // small, and loads happen once per process start or rebuild, so it is leaked.
            let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, "vectors")));
            let mut h: Hnsw<'static, f32, DistCosine> = io
                .load_hnsw()
                .map_err(|e| Error::Vectors(format!("loading {}: {e}", dir.display())))?;
            h.set_searching_mode(false);
            h
        } else {
            new_hnsw(ids.iris.len())
        };
        let tombstones: HashSet<usize> = ids.tombstones.into_iter().collect();
        let by_iri = ids
            .iris
            .iter()
            .enumerate()
            .filter(|(i, _)| !tombstones.contains(i))
            .map(|(i, s)| (s.clone(), i))
            .collect();
        Ok(Self {
            dimension: ids.dimension,
            hnsw,
            iris: ids.iris,
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
    fn upsert_search_delete_persist() {
        let dim = 32;
        let mut idx = VectorIndex::new(dim, 100);
        idx.upsert((0..50).map(|i| (format!("e{i}"), unit(i, dim))).collect())
            .unwrap();
        assert_eq!(idx.search(&unit(3, dim), 1).unwrap()[0].0, "e3");
        // Move e3 to an empty direction: the old point is tombstoned.
        idx.upsert(vec![("e3".into(), unit(600, dim))]).unwrap();
        assert_ne!(idx.search(&unit(3, dim), 1).unwrap()[0].0, "e3");
        assert_eq!(idx.search(&unit(600, dim), 1).unwrap()[0].0, "e3");
        assert_eq!(idx.len(), 50);
        idx.remove("e19");
        assert!(
            idx.search(&unit(19, dim), 5)
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
        assert_eq!(back.search(&unit(7, dim), 1).unwrap()[0].0, "e7");
        assert!(idx.search(&[0.0; 3], 1).is_err());
    }
}
