//! The words of the registration desk (`/desk`), in Vietnamese and English.

use vneid_contract::Lang;

/// Every fixed text of the desk's pages.
pub struct DeskTexts {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
}

/// Vietnamese.
pub static VI: DeskTexts = DeskTexts {
    lang: "vi",
    other_lang: "en",
    other_lang_name: "English",
};

/// English.
pub static EN: DeskTexts = DeskTexts {
    lang: "en",
    other_lang: "vi",
    other_lang_name: "Tiếng Việt",
};

/// The desk texts for a language.
pub fn desk(lang: Lang) -> &'static DeskTexts {
    match lang {
        Lang::En => &EN,
        _ => &VI,
    }
}
