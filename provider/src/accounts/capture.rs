//! What the desk's capture devices send (Decree 59 Art. 14.2: the portrait and the fingerprints
//! are captured and verified): the portrait template, the templates of at least
//! [`MIN_FINGERS`] different fingers, the device, and optionally the portrait photo. Once the
//! verification matches, the fingerprint templates and the photo are kept sealed (under the
//! key-encryption key) with it until the enrolment stores them on the account: the templates
//! for later verification, never released; the photo for the `portrait` claim.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::keys::{SealError, Sealer};
use crate::registry::{Modality, Template};

/// The fewest different fingers the desk verifies.
pub const MIN_FINGERS: usize = 2;

/// What the capture devices sent.
#[derive(Debug, Clone)]
pub struct Capture {
    pub id_number: String,
    pub portrait: Template,
    /// One template per finger, at least [`MIN_FINGERS`], each finger once.
    pub fingers: Vec<(Modality, Template)>,
    /// The capture device.
    pub device: String,
    /// The portrait photo's JPEG bytes, if the camera sent one.
    pub photo: Option<Vec<u8>>,
}

/// A capture that cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("{0}: not a JSON array of numbers")]
    NotNumbers(&'static str),
    #[error("{0}: {1}")]
    Template(&'static str, String),
    #[error("unknown finger")]
    UnknownFinger,
    #[error("at least two different fingers are verified")]
    TooFewFingers,
    #[error("the device must be named (1-100 printable characters)")]
    Device,
    #[error("portrait photo: {0}")]
    Photo(#[from] crate::accounts::portrait::PhotoError),
}

/// The capture form's fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureFields<'a> {
    pub id_number: &'a str,
    pub portrait: &'a str,
    /// (finger, template) pairs as typed; empty pairs are skipped.
    pub fingers: [(&'a str, &'a str); 2],
    pub device: &'a str,
    /// A base64 JPEG, or empty.
    pub photo: &'a str,
}

fn template(what: &'static str, text: &str) -> Result<Template, CaptureError> {
    let values: Vec<f32> =
        serde_json::from_str(text).map_err(|_| CaptureError::NotNumbers(what))?;
    Template::new(values).map_err(|e| CaptureError::Template(what, e.to_string()))
}

impl Capture {
    /// Parses the capture form's fields.
    pub fn parse(f: CaptureFields<'_>) -> Result<Capture, CaptureError> {
        let device = f.device.trim();
        if device.is_empty() || device.chars().count() > 100 || device.chars().any(char::is_control)
        {
            return Err(CaptureError::Device);
        }
        let mut fingers: Vec<(Modality, Template)> = Vec::new();
        for (finger, text) in f.fingers {
            if finger.trim().is_empty() && text.trim().is_empty() {
                continue;
            }
            let modality = Modality::parse(&format!("fingerprint:{}", finger.trim()))
                .ok_or(CaptureError::UnknownFinger)?;
            if fingers.iter().any(|(m, _)| *m == modality) {
                return Err(CaptureError::TooFewFingers);
            }
            fingers.push((modality, template("fingerprint", text)?));
        }
        if fingers.len() < MIN_FINGERS {
            return Err(CaptureError::TooFewFingers);
        }
        let photo = match f.photo.trim() {
            "" => None,
            b64 => Some(crate::accounts::portrait::decode_photo(b64)?),
        };
        Ok(Capture {
            id_number: f.id_number.trim().to_string(),
            portrait: template("portrait", f.portrait)?,
            fingers,
            device: device.to_string(),
            photo,
        })
    }

    /// What is kept of a matched capture until its enrolment, sealed.
    pub fn kept(&self, sealer: &Sealer) -> Result<String, SealError> {
        let kept = Kept {
            fingers: self
                .fingers
                .iter()
                .map(|(m, t)| KeptFinger {
                    modality: m.as_string(),
                    template: t.values().to_vec(),
                })
                .collect(),
            device: self.device.clone(),
            photo: self.photo.as_deref().map(|p| STANDARD.encode(p)),
        };
        let json = serde_json::to_vec(&kept).unwrap_or_default();
        sealer.seal(&json)
    }
}

/// A matched capture as kept with its verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kept {
    pub fingers: Vec<KeptFinger>,
    pub device: String,
    /// Base64 JPEG.
    pub photo: Option<String>,
}

/// One finger's template.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptFinger {
    /// `fingerprint:<finger>`.
    pub modality: String,
    pub template: Vec<f32>,
}

impl Kept {
    /// Opens a sealed capture.
    pub fn open(sealer: &Sealer, sealed: &str) -> Option<Kept> {
        let bytes = sealer.open(sealed).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Each finger's template sealed on its own, as the account keeps it: (modality, sealed).
    pub fn sealed_fingers(&self, sealer: &Sealer) -> Result<Vec<(String, String)>, SealError> {
        self.fingers
            .iter()
            .map(|f| {
                let json = serde_json::to_vec(&f.template).unwrap_or_default();
                Ok((f.modality.clone(), sealer.seal(&json)?))
            })
            .collect()
    }

    /// The photo sealed as the account keeps its portrait.
    pub fn sealed_photo(&self, sealer: &Sealer) -> Result<Option<String>, SealError> {
        match self.photo.as_deref().and_then(|b| STANDARD.decode(b).ok()) {
            Some(jpeg) => Ok(Some(crate::accounts::portrait::seal(sealer, &jpeg)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(t: &'a str, fingers: [(&'a str, &'a str); 2]) -> CaptureFields<'a> {
        CaptureFields {
            id_number: " 001301000123 ",
            portrait: t,
            fingers,
            device: "desk-1",
            photo: "",
        }
    }

    #[test]
    fn two_different_fingers_are_needed_and_captures_are_checked() {
        let t = serde_json::to_string(&vec![0.5f32; 64]).unwrap();
        let ok = Capture::parse(fields(&t, [("right_index", &t), ("left_index", &t)])).unwrap();
        assert_eq!(ok.id_number, "001301000123");
        assert_eq!(ok.fingers.len(), 2);
        assert_eq!(
            Capture::parse(fields(&t, [("right_index", &t), ("", "")])).unwrap_err(),
            CaptureError::TooFewFingers
        );
        assert_eq!(
            Capture::parse(fields(&t, [("right_index", &t), ("right_index", &t)])).unwrap_err(),
            CaptureError::TooFewFingers
        );
        assert_eq!(
            Capture::parse(fields("[1,", [("right_index", &t), ("left_index", &t)])).unwrap_err(),
            CaptureError::NotNumbers("portrait")
        );
        assert_eq!(
            Capture::parse(fields(&t, [("tail", &t), ("left_index", &t)])).unwrap_err(),
            CaptureError::UnknownFinger
        );
        let mut f = fields(&t, [("right_index", &t), ("left_index", &t)]);
        f.device = " ";
        assert_eq!(Capture::parse(f).unwrap_err(), CaptureError::Device);
        f.device = "d";
        f.photo = "R0lGODlh";
        assert!(matches!(Capture::parse(f), Err(CaptureError::Photo(_))));
    }
}
