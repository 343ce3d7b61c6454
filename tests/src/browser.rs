//! A scripted browser: keeps cookies, follows the provider's redirects, fills the plain HTML
//! forms by the contract's field names, and stops when sent back to the relying party.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use scraper::{Html, Selector};
use url::Url;

/// Where a navigation ended.
#[derive(Debug)]
pub enum Landing {
    /// A page of the provider.
    Page {
        url: Url,
        status: StatusCode,
        html: String,
    },
    /// A redirect away from the provider (to the relying party).
    Away(Url),
}

impl Landing {
    /// The page, or a panic saying where we went instead.
    pub fn page(self) -> (Url, StatusCode, String) {
        match self {
            Landing::Page { url, status, html } => (url, status, html),
            Landing::Away(url) => panic!("expected a page, was sent to {url}"),
        }
    }

    /// The redirect target, or a panic showing the page.
    pub fn away(self) -> Url {
        match self {
            Landing::Away(url) => url,
            Landing::Page { url, status, html } => {
                panic!("expected a redirect away, got {status} at {url}:\n{html}")
            }
        }
    }

    /// The value of a query parameter of the redirect target.
    pub fn param(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A browser with a cookie jar, aimed at one provider origin (changeable, for the test of a
/// login that moves between processes).
pub struct Browser {
    pub client: reqwest::Client,
    pub origin: Url,
}

impl Browser {
    /// A browser whose provider is `origin`.
    pub fn new(origin: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            origin: Url::parse(origin).unwrap(),
        }
    }

    /// Rewrites a provider URL onto the current origin.
    fn aim(&self, url: &Url) -> Url {
        let mut url = url.clone();
        if url.host_str() == Some("127.0.0.1") && self.is_provider(&url) {
            url.set_port(self.origin.port()).unwrap();
        }
        url
    }

    fn is_provider(&self, url: &Url) -> bool {
        !matches!(url.port(), Some(3001) | Some(3002))
    }

    /// GETs `url`, following the provider's redirects.
    pub async fn navigate(&self, url: &str) -> Landing {
        let url = self.aim(&Url::parse(url).unwrap());
        let response = self.client.get(url.clone()).send().await.unwrap();
        self.follow(url, response).await
    }

    async fn follow(&self, mut url: Url, mut response: reqwest::Response) -> Landing {
        for _ in 0..10 {
            if !response.status().is_redirection() {
                let status = response.status();
                let html = response.text().await.unwrap();
                return Landing::Page { url, status, html };
            }
            let location = response
                .headers()
                .get(LOCATION)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let next = url.join(&location).unwrap();
            if !self.is_provider(&next) {
                return Landing::Away(next);
            }
            url = self.aim(&next);
            response = self.client.get(url.clone()).send().await.unwrap();
        }
        panic!("too many redirects");
    }

    /// Submits the form whose action ends with `action_suffix` on `page`, with its hidden inputs
    /// and `fields`.
    pub async fn submit(
        &self,
        page_url: &Url,
        html: &str,
        action_suffix: &str,
        fields: &[(&str, &str)],
    ) -> Landing {
        let (action, mut values) = form(html, action_suffix);
        for (k, v) in fields {
            values.retain(|(name, _)| name != k);
            values.push((k.to_string(), v.to_string()));
        }
        let target = self.aim(&page_url.join(&action).unwrap());
        let response = self
            .client
            .post(target.clone())
            .form(&values)
            .send()
            .await
            .unwrap();
        self.follow(target, response).await
    }
}

/// The action and hidden inputs of the form whose action ends with `suffix`.
pub fn form(html: &str, suffix: &str) -> (String, Vec<(String, String)>) {
    let doc = Html::parse_document(html);
    let forms = Selector::parse("form").unwrap();
    let hidden = Selector::parse("input[type=hidden]").unwrap();
    for f in doc.select(&forms) {
        let action = f.value().attr("action").unwrap_or("").to_string();
        if action.ends_with(suffix) {
            let values = f
                .select(&hidden)
                .map(|i| {
                    (
                        i.value().attr("name").unwrap_or("").to_string(),
                        i.value().attr("value").unwrap_or("").to_string(),
                    )
                })
                .collect();
            return (action, values);
        }
    }
    panic!("no form ending with {suffix} in:\n{html}");
}

/// Whether the page has a form ending with `suffix`.
pub fn has_form(html: &str, suffix: &str) -> bool {
    let doc = Html::parse_document(html);
    let forms = Selector::parse("form").unwrap();
    doc.select(&forms)
        .any(|f| f.value().attr("action").unwrap_or("").ends_with(suffix))
}
