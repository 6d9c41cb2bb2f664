//! A BERT encoder's forward pass for one text at a time, in f32, in safe Rust.
//!
//! `y = x Wᵀ + b` runs on a register-blocked kernel: the `[out, in]` weights of PyTorch's
//! `Linear` are packed once at load into blocks of 16 outputs, and four tokens at a time
//! accumulate 4 × 16 sums that the compiler keeps in vector registers. No unsafe code: a BLAS
//! (matrixmultiply's `sgemm` included) is only reachable through `unsafe` calls, which the
//! workspace forbids.

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

/// The fields of a Hugging Face `BertConfig` (`config.json`) the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BertConfig {
    pub(crate) hidden_size: usize,
    pub(crate) num_hidden_layers: usize,
    pub(crate) num_attention_heads: usize,
    pub(crate) intermediate_size: usize,
    pub(crate) max_position_embeddings: usize,
    #[serde(default = "default_type_vocab_size")]
    pub(crate) type_vocab_size: usize,
    #[serde(default = "default_layer_norm_eps")]
    pub(crate) layer_norm_eps: f64,
    #[serde(default = "default_hidden_act")]
    pub(crate) hidden_act: String,
    pub(crate) vocab_size: usize,
    #[serde(default)]
    pub(crate) position_embedding_type: Option<String>,
}

fn default_type_vocab_size() -> usize {
    2
}

fn default_layer_norm_eps() -> f64 {
    1e-12
}

fn default_hidden_act() -> String {
    "gelu".to_owned()
}

/// How token vectors become one text vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pooling {
    /// The mean over all tokens, `[CLS]` and `[SEP]` included.
    Mean,
    /// The `[CLS]` token's vector.
    Cls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activation {
    /// `x Φ(x)` with the exact error function.
    GeluErf,
    /// The tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    GeluTanh,
}

/// A `Linear` layer, its weights packed at load for the product kernel: for each block of
/// [`COLS`] outputs, the inputs in order, each with that block's [`COLS`] weights (zeros
/// past the last output).
#[derive(Debug)]
struct Linear {
    packed: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

#[derive(Debug)]
struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

#[derive(Debug)]
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// A loaded BERT encoder.
#[derive(Debug)]
pub(crate) struct Bert {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    max_positions: usize,
    vocab_rows: usize,
    eps: f32,
    activation: Activation,
}

/// Reads tensors by name from a checkpoint whose names may carry a `bert.` prefix.
struct Tensors<'a> {
    file: &'a SafeTensors<'a>,
    path: &'a str,
}

impl Tensors<'_> {
    /// The first of `names` (each also tried with `bert.`) that exists, checked against
    /// `shape` and converted to f32.
    fn get(&self, names: &[&str], shape: &[usize]) -> Result<Vec<f32>, String> {
        for name in names {
            for full in [name.to_string(), format!("bert.{name}")] {
                let Ok(view) = self.file.tensor(&full) else {
                    continue;
                };
                if view.shape() != shape {
                    return Err(format!(
                        "{}: tensor {full} has shape {:?}, expected {shape:?}",
                        self.path,
                        view.shape()
                    ));
                }
                return to_f32(view.dtype(), view.data())
                    .map_err(|e| format!("{}: tensor {full}: {e}", self.path));
            }
        }
        Err(format!(
            "{}: no tensor {} (nor with a bert. prefix), expected with shape {shape:?}",
            self.path,
            names.join(" or ")
        ))
    }

    fn linear(&self, name: &str, outputs: usize, inputs: usize) -> Result<Linear, String> {
        let weight = self.get(&[&format!("{name}.weight")], &[outputs, inputs])?;
        let bias = self.get(&[&format!("{name}.bias")], &[outputs])?;
        Ok(Linear::new(&weight, bias, outputs, inputs))
    }

    fn layer_norm(&self, name: &str, size: usize) -> Result<LayerNorm, String> {
        Ok(LayerNorm {
            weight: self.get(
                &[&format!("{name}.weight"), &format!("{name}.gamma")],
                &[size],
            )?,
            bias: self.get(&[&format!("{name}.bias"), &format!("{name}.beta")], &[size])?,
        })
    }
}

fn to_f32(dtype: Dtype, data: &[u8]) -> Result<Vec<f32>, String> {
    match dtype {
        Dtype::F32 => Ok(data
            .as_chunks::<4>()
            .0
            .iter()
            .map(|b| f32::from_le_bytes(*b))
            .collect()),
        Dtype::F16 => Ok(data
            .as_chunks::<2>()
            .0
            .iter()
            .map(|b| half::f16::from_le_bytes(*b).to_f32())
            .collect()),
        Dtype::BF16 => Ok(data
            .as_chunks::<2>()
            .0
            .iter()
            .map(|b| half::bf16::from_le_bytes(*b).to_f32())
            .collect()),
        other => Err(format!(
            "unsupported dtype {other:?} (supported: F32, F16, BF16)"
        )),
    }
}

impl Bert {
    /// Checks the configuration and reads every tensor the encoder uses (`pooler.*` and
    /// anything else is ignored). `path` names the weights file in errors.
    pub(crate) fn load(
        config: &BertConfig,
        file: &SafeTensors<'_>,
        path: &str,
    ) -> Result<Self, String> {
        let c = config;
        for (field, value) in [
            ("hidden_size", c.hidden_size),
            ("num_hidden_layers", c.num_hidden_layers),
            ("num_attention_heads", c.num_attention_heads),
            ("intermediate_size", c.intermediate_size),
            ("max_position_embeddings", c.max_position_embeddings),
            ("type_vocab_size", c.type_vocab_size),
            ("vocab_size", c.vocab_size),
        ] {
            if value == 0 {
                return Err(format!("config.json: {field} is 0"));
            }
        }
        if !c.hidden_size.is_multiple_of(c.num_attention_heads) {
            return Err(format!(
                "config.json: hidden_size {} is not a multiple of num_attention_heads {}",
                c.hidden_size, c.num_attention_heads
            ));
        }
        let activation = match c.hidden_act.as_str() {
            "gelu" => Activation::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            other => {
                return Err(format!(
                    "config.json: unsupported hidden_act {other:?} (supported: gelu, gelu_new, gelu_pytorch_tanh)"
                ));
            }
        };
        if let Some(kind) = c.position_embedding_type.as_deref()
            && kind != "absolute"
        {
            return Err(format!(
                "config.json: unsupported position_embedding_type {kind:?} (supported: absolute)"
            ));
        }
        let h = c.hidden_size;
        let t = Tensors { file, path };
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for i in 0..c.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            layers.push(Layer {
                query: t.linear(&format!("{p}.attention.self.query"), h, h)?,
                key: t.linear(&format!("{p}.attention.self.key"), h, h)?,
                value: t.linear(&format!("{p}.attention.self.value"), h, h)?,
                attention_out: t.linear(&format!("{p}.attention.output.dense"), h, h)?,
                attention_norm: t.layer_norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                intermediate: t.linear(
                    &format!("{p}.intermediate.dense"),
                    c.intermediate_size,
                    h,
                )?,
                output: t.linear(&format!("{p}.output.dense"), h, c.intermediate_size)?,
                output_norm: t.layer_norm(&format!("{p}.output.LayerNorm"), h)?,
            });
        }
        Ok(Self {
            word: t.get(&["embeddings.word_embeddings.weight"], &[c.vocab_size, h])?,
            position: t.get(
                &["embeddings.position_embeddings.weight"],
                &[c.max_position_embeddings, h],
            )?,
            token_type: t.get(
                &["embeddings.token_type_embeddings.weight"],
                &[c.type_vocab_size, h],
            )?,
            embedding_norm: t.layer_norm("embeddings.LayerNorm", h)?,
            layers,
            hidden: h,
            heads: c.num_attention_heads,
            max_positions: c.max_position_embeddings,
            vocab_rows: c.vocab_size,
            eps: c.layer_norm_eps as f32,
            activation,
        })
    }

    /// The vector length.
    pub(crate) fn hidden(&self) -> usize {
        self.hidden
    }

    /// Rows of the word-embedding table: token ids must be below this.
    pub(crate) fn vocab_rows(&self) -> usize {
        self.vocab_rows
    }

    /// The longest input the position embeddings allow.
    pub(crate) fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// Encodes texts' token ids (all of token type 0, all attended to), pools and
    /// L2-normalises each. The texts share the matrix products (the weights are read once for
    /// all of them) but nothing else: every row of a product, every attention and every norm
    /// is computed from one text alone, so a text's vector does not depend on its companions.
    /// Ids past the vocabulary count as id 0 and tokens past the position table are dropped
    /// (the loader's and tokenizer's checks make both impossible).
    pub(crate) fn embed(&self, texts: &[Vec<u32>], pooling: Pooling) -> Vec<Vec<f32>> {
        let h = self.hidden;
        let spans: Vec<(usize, usize)> = texts
            .iter()
            .scan(0, |start, ids| {
                let n = ids.len().min(self.max_positions);
                let span = (*start, n);
                *start += n;
                Some(span)
            })
            .collect();
        let rows: usize = spans.iter().map(|s| s.1).sum();
        let mut x = vec![0.0f32; rows * h];
        let mut chunks = x.chunks_exact_mut(h);
        for ids in texts {
            // `ids` first: zip must not take a row past the last id.
            let ids = &ids[..ids.len().min(self.max_positions)];
            for (t, (&id, row)) in ids.iter().zip(&mut chunks).enumerate() {
                let id = usize::try_from(id)
                    .ok()
                    .filter(|&i| i < self.vocab_rows)
                    .unwrap_or(0);
                let word = &self.word[id * h..(id + 1) * h];
                let position = &self.position[t * h..(t + 1) * h];
                for (((v, w), p), ty) in row
                    .iter_mut()
                    .zip(word)
                    .zip(position)
                    .zip(&self.token_type[..h])
                {
                    *v = w + p + ty;
                }
            }
        }
        layer_norm(&mut x, &self.embedding_norm, self.eps);
        for layer in &self.layers {
            self.layer(&mut x, &spans, layer);
        }
        spans
            .iter()
            .map(|&(start, n)| pool(&x[start * h..(start + n) * h], h, pooling))
            .collect()
    }

    fn layer(&self, x: &mut [f32], spans: &[(usize, usize)], layer: &Layer) {
        let h = self.hidden;
        let dh = h / self.heads;
        let rows = x.len() / h;
        let q = layer.query.forward(x, rows);
        let k = layer.key.forward(x, rows);
        let v = layer.value.forward(x, rows);
        let scale = 1.0 / (dh as f32).sqrt();
        let mut context = vec![0.0f32; rows * h];
        let mut scores = Vec::new();
        for &(start, n) in spans {
            let q = &q[start * h..(start + n) * h];
            let k = &k[start * h..(start + n) * h];
            let v = &v[start * h..(start + n) * h];
            let context = &mut context[start * h..(start + n) * h];
            scores.resize(n, 0.0f32);
            for head in 0..self.heads {
                let cols = head * dh..(head + 1) * dh;
                for i in 0..n {
                    let qi = &q[i * h..][cols.clone()];
                    for (j, s) in scores.iter_mut().enumerate() {
                        *s = dot(qi, &k[j * h..][cols.clone()]) * scale;
                    }
                    softmax(&mut scores);
                    let out = &mut context[i * h..][cols.clone()];
                    for (j, p) in scores.iter().enumerate() {
                        for (o, vj) in out.iter_mut().zip(&v[j * h..][cols.clone()]) {
                            *o += p * vj;
                        }
                    }
                }
            }
        }
        let attended = layer.attention_out.forward(&context, rows);
        add(x, &attended);
        layer_norm(x, &layer.attention_norm, self.eps);
        let mut inner = layer.intermediate.forward(x, rows);
        match self.activation {
            Activation::GeluErf => inner.iter_mut().for_each(|v| *v = gelu_erf(*v)),
            Activation::GeluTanh => inner.iter_mut().for_each(|v| *v = gelu_tanh(*v)),
        }
        let out = layer.output.forward(&inner, rows);
        add(x, &out);
        layer_norm(x, &layer.output_norm, self.eps);
    }
}

/// One text's vector from its token rows: the mean or the first row, L2-normalised (a
/// text without tokens gives zeros).
fn pool(x: &[f32], h: usize, pooling: Pooling) -> Vec<f32> {
    let n = x.len() / h;
    if n == 0 {
        return vec![0.0; h];
    }
    let mut pooled = match pooling {
        Pooling::Cls => x[..h].to_vec(),
        Pooling::Mean => {
            let mut sum = vec![0.0f64; h];
            for row in x.chunks_exact(h) {
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += f64::from(*v);
                }
            }
            sum.iter().map(|s| (s / n as f64) as f32).collect()
        }
    };
    let norm = pooled
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        for v in &mut pooled {
            *v = (f64::from(*v) / norm) as f32;
        }
    }
    pooled
}

/// Outputs per block of the product kernel.
const COLS: usize = 16;
/// Tokens per pass of the product kernel.
const ROWS: usize = 4;

impl Linear {
    /// Packs PyTorch's `[outputs, inputs]` row-major weights.
    fn new(weight: &[f32], bias: Vec<f32>, outputs: usize, inputs: usize) -> Self {
        let blocks = outputs.div_ceil(COLS);
        let mut packed = vec![0.0f32; blocks * inputs * COLS];
        for (o, row) in weight.chunks_exact(inputs.max(1)).enumerate() {
            let (block, lane) = (o / COLS, o % COLS);
            for (i, w) in row.iter().enumerate() {
                packed[(block * inputs + i) * COLS + lane] = *w;
            }
        }
        Self {
            packed,
            bias,
            inputs,
            outputs,
        }
    }

    /// `x Wᵀ + b` for `n` rows of `x`: for each block of outputs and each group of rows, the
    /// kernel accumulates `ROWS × COLS` sums in registers over the inputs. Each output is a
    /// sum over the inputs in order, whatever the other rows of its group.
    fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        let (inputs, outputs) = (self.inputs, self.outputs);
        if inputs == 0 {
            return vec![0.0f32; n * outputs];
        }
        let rows: Vec<&[f32]> = x.chunks_exact(inputs).take(n).collect();
        let mut y = vec![0.0f32; rows.len() * outputs];
        for (block, panel) in self.packed.chunks_exact(inputs * COLS).enumerate() {
            let panel = panel.as_chunks::<COLS>().0;
            let first = block * COLS;
            let width = COLS.min(outputs - first);
            let bias = &self.bias[first..first + width];
            for (g, group) in rows.chunks(ROWS).enumerate() {
                // A short last group repeats its first row; only its own rows are written.
                let pick = |k: usize| group.get(k).unwrap_or(&group[0]);
                let sums = kernel([pick(0), pick(1), pick(2), pick(3)], panel);
                for (k, sum) in sums.iter().take(group.len()).enumerate() {
                    let out = &mut y[(g * ROWS + k) * outputs + first..][..width];
                    for ((o, s), b) in out.iter_mut().zip(sum).zip(bias) {
                        *o = s + b;
                    }
                }
            }
        }
        y
    }
}

/// `ROWS` rows times one block of packed weights.
fn kernel(x: [&[f32]; ROWS], panel: &[[f32; COLS]]) -> [[f32; COLS]; ROWS] {
    let mut acc = [[0.0f32; COLS]; ROWS];
    for ((((w, a), b), c), d) in panel.iter().zip(x[0]).zip(x[1]).zip(x[2]).zip(x[3]) {
        for l in 0..COLS {
            acc[0][l] += a * w[l];
            acc[1][l] += b * w[l];
            acc[2][l] += c * w[l];
            acc[3][l] += d * w[l];
        }
    }
    acc
}

const LANES: usize = 8;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ac, ar) = a.as_chunks::<LANES>();
    let (bc, br) = b.as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for (x, y) in ac.iter().zip(bc) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ar.iter().zip(br).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for s in v.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    if sum > 0.0 {
        for s in v.iter_mut() {
            *s /= sum;
        }
    }
}

/// Normalises every row of `x` (rows as long as the norm's weight).
fn layer_norm(x: &mut [f32], norm: &LayerNorm, eps: f32) {
    let h = norm.weight.len();
    let len = h as f32;
    for row in x.chunks_exact_mut(h) {
        let mean = row.iter().sum::<f32>() / len;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / len;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
            *v = (*v - mean) * inv * w + b;
        }
    }
}

fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2))
}

fn gelu_tanh(x: f32) -> f32 {
    const C: f32 = 0.797_884_6; // sqrt(2 / pi)
    0.5 * x * (1.0 + (C * (x + 0.044_715 * x * x * x)).tanh())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn linear_matches_a_naive_product() {
        // 7 rows (a group of four and a short one), 37 outputs (two blocks and a partial one).
        for (n, inputs, outputs) in [(7, 13, 37), (1, 1, 1), (4, 16, 16), (0, 3, 2)] {
            let x: Vec<f32> = (0..n * inputs)
                .map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0)
                .collect();
            let weight: Vec<f32> = (0..outputs * inputs)
                .map(|i| ((i * 5 % 9) as f32 - 4.0) / 2.0)
                .collect();
            let bias: Vec<f32> = (0..outputs).map(|i| i as f32).collect();
            let lin = Linear::new(&weight, bias.clone(), outputs, inputs);
            let y = lin.forward(&x, n);
            assert_eq!(y.len(), n * outputs);
            for r in 0..n {
                for o in 0..outputs {
                    let want: f32 = (0..inputs)
                        .map(|i| x[r * inputs + i] * weight[o * inputs + i])
                        .sum::<f32>()
                        + bias[o];
                    let got = y[r * outputs + o];
                    assert!(
                        (got - want).abs() < 1e-4,
                        "row {r} output {o}: {got} {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn gelu_variants_agree_roughly() {
        for x in [-3.0f32, -1.0, -0.1, 0.0, 0.5, 2.0] {
            assert!((gelu_erf(x) - gelu_tanh(x)).abs() < 2e-3, "{x}");
        }
        assert!((gelu_erf(1.0) - 0.841_344_7).abs() < 1e-6);
    }

    #[test]
    fn dtypes_convert() {
        assert_eq!(to_f32(Dtype::F32, &1.5f32.to_le_bytes()).unwrap(), [1.5]);
        assert_eq!(
            to_f32(Dtype::F16, &half::f16::from_f32(-2.0).to_le_bytes()).unwrap(),
            [-2.0]
        );
        assert_eq!(
            to_f32(Dtype::BF16, &half::bf16::from_f32(3.0).to_le_bytes()).unwrap(),
            [3.0]
        );
        let e = to_f32(Dtype::I64, &[0; 8]).unwrap_err();
        assert!(e.contains("I64"), "{e}");
    }
}
