//! Biometric templates: feature vectors from the capture device (a portrait embedding, one
//! fingerprint template per finger). Images and feature extraction are the device's job.

use serde::{Deserialize, Serialize};

/// Smallest and largest accepted template sizes.
pub const MIN_DIMENSIONS: usize = 16;
/// See [`MIN_DIMENSIONS`].
pub const MAX_DIMENSIONS: usize = 2048;

/// What a template describes: `portrait`, or `fingerprint:<finger>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Modality {
    /// The face.
    Portrait,
    /// One finger (`right_thumb`, `left_index`, ...).
    Fingerprint(String),
}

const FINGERS: [&str; 10] = [
    "right_thumb",
    "right_index",
    "right_middle",
    "right_ring",
    "right_little",
    "left_thumb",
    "left_index",
    "left_middle",
    "left_ring",
    "left_little",
];

impl Modality {
    /// Parses `portrait` or `fingerprint:<finger>`.
    pub fn parse(s: &str) -> Option<Modality> {
        if s == "portrait" {
            return Some(Modality::Portrait);
        }
        let finger = s.strip_prefix("fingerprint:")?;
        FINGERS
            .contains(&finger)
            .then(|| Modality::Fingerprint(finger.to_string()))
    }

    /// The wire string.
    pub fn as_string(&self) -> String {
        match self {
            Modality::Portrait => "portrait".into(),
            Modality::Fingerprint(f) => format!("fingerprint:{f}"),
        }
    }
}

impl TryFrom<String> for Modality {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Modality::parse(&s).ok_or_else(|| {
            format!("unknown modality `{s}` (portrait, fingerprint:right_index, ...)")
        })
    }
}

impl From<Modality> for String {
    fn from(m: Modality) -> String {
        m.as_string()
    }
}

/// Why a template is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// Too few or too many numbers.
    #[error("a template has {MIN_DIMENSIONS} to {MAX_DIMENSIONS} numbers, this one has {0}")]
    Size(usize),
    /// NaN or infinite values.
    #[error("a template holds finite numbers only")]
    NotFinite,
    /// All zeros: nothing was captured.
    #[error("the template is empty (all zeros)")]
    Empty,
}

/// A checked feature vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Template(Vec<f32>);

impl Template {
    /// Checks a vector.
    pub fn new(values: Vec<f32>) -> Result<Template, TemplateError> {
        if !(MIN_DIMENSIONS..=MAX_DIMENSIONS).contains(&values.len()) {
            return Err(TemplateError::Size(values.len()));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(TemplateError::NotFinite);
        }
        if values.iter().all(|v| *v == 0.0) {
            return Err(TemplateError::Empty);
        }
        Ok(Template(values))
    }

    /// Cosine similarity; `None` for templates of different sizes, which cannot be compared
    /// (a probe's size is checked against the configured one before it gets here).
    pub fn similarity(&self, other: &Template) -> Option<f64> {
        if self.0.len() != other.0.len() {
            return None;
        }
        let (mut dot, mut a2, mut b2) = (0f64, 0f64, 0f64);
        for (a, b) in self.0.iter().zip(&other.0) {
            let (a, b) = (f64::from(*a), f64::from(*b));
            dot += a * b;
            a2 += a * a;
            b2 += b * b;
        }
        Some(dot / (a2.sqrt() * b2.sqrt()))
    }

    /// The numbers.
    pub fn values(&self) -> &[f32] {
        &self.0
    }
}

impl TryFrom<Vec<f32>> for Template {
    type Error = TemplateError;
    fn try_from(v: Vec<f32>) -> Result<Self, TemplateError> {
        Template::new(v)
    }
}

impl From<Template> for Vec<f32> {
    fn from(t: Template) -> Vec<f32> {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked_and_compared() {
        let a = Template::new((0..128).map(|i| i as f32).collect()).unwrap();
        let b = Template::new((0..128).map(|i| i as f32 + 0.5).collect()).unwrap();
        assert!(a.similarity(&a).unwrap() > 0.9999);
        assert!(a.similarity(&b).unwrap() > 0.99);
        let c = Template::new(
            (0..128)
                .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
                .collect(),
        )
        .unwrap();
        assert!(a.similarity(&c).unwrap() < 0.5);
        let short = Template::new((0..64).map(|i| i as f32).collect()).unwrap();
        assert_eq!(a.similarity(&short), None, "different sizes do not compare");
        assert_eq!(Template::new(vec![1.0; 3]), Err(TemplateError::Size(3)));
        assert_eq!(Template::new(vec![0.0; 64]), Err(TemplateError::Empty));
        assert_eq!(
            Template::new(vec![f32::NAN; 64]),
            Err(TemplateError::NotFinite)
        );
        assert_eq!(
            Modality::parse("fingerprint:left_index"),
            Some(Modality::Fingerprint("left_index".into()))
        );
        assert_eq!(Modality::parse("fingerprint:tail"), None);
    }
}
