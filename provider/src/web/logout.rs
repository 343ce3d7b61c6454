//! `GET` and `POST /logout` (RP-Initiated Logout 1.0): thin handlers over `oidc::logout`.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde_json::json;
use vneid_contract::Lang;

use super::pages::{ErrorPage, LogoutConfirmPage};
use super::session;
use super::texts::texts;
use crate::error::AppError;
use crate::oidc::client::Client;
use crate::oidc::logout::{
    LogoutDecision, LogoutError, LogoutParams, client_of, decide, verify_hint,
};
use crate::oidc::paths;
use crate::oidc::subject::subject;
use crate::oidc::types::RedirectUri;
use crate::state::AppState;
use crate::store::AuditEvent;

/// `GET /logout`.
pub async fn logout_get(
    State(state): State<AppState>,
    jar: CookieJar,
    params: Result<Query<LogoutParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    match params {
        Ok(Query(params)) => logout(state, jar, params, false).await,
        Err(_) => Ok(refused(LogoutError::BadHint)),
    }
}

/// `POST /logout`: the relying party's form post, or our own confirmation form.
pub async fn logout_post(
    State(state): State<AppState>,
    jar: CookieJar,
    params: Result<Form<LogoutParams>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    let Ok(Form(params)) = params else {
        return Ok(refused(LogoutError::BadHint));
    };
    if params.csrf.is_none() && !session::has_cookie(&jar) {
        // A cross-site form post does not carry our SameSite=Lax cookie; the same request as a
        // top-level GET does, so the session can be found.
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("id_token_hint", &params.id_token_hint),
            ("client_id", &params.client_id),
            ("post_logout_redirect_uri", &params.post_logout_redirect_uri),
            ("state", &params.state),
            ("ui_locales", &params.ui_locales),
        ] {
            if let Some(v) = v {
                query.append_pair(k, v);
            }
        }
        let target = format!("{}?{}", paths::END_SESSION, query.finish());
        return Ok(Redirect::to(&target).into_response());
    }
    logout(state, jar, params, true).await
}

async fn logout(
    state: AppState,
    jar: CookieJar,
    params: LogoutParams,
    post: bool,
) -> Result<Response, AppError> {
    // The request first: a bad hint, a client mismatch or an unregistered address stops here,
    // with nothing ended and nowhere redirected.
    let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(token) => match verify_hint(&state.keys.jwks(), &state.issuer, token) {
            Ok(hint) => Some(hint),
            Err(e) => return Ok(refused(e)),
        },
        None => None,
    };
    let client = match client_of(hint.as_ref(), params.client_id.as_deref()) {
        Ok(Some(id)) => match state.client(&id).await? {
            Some(client) => Some(client),
            None => return Ok(refused(LogoutError::UnknownClient)),
        },
        Ok(None) => None,
        Err(e) => return Ok(refused(e)),
    };
    let back = match params
        .post_logout_redirect_uri
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        Some(raw) => match client
            .as_ref()
            .and_then(|c| c.post_logout_redirect_uri(raw))
        {
            Some(uri) => Some(uri),
            None => return Ok(refused(LogoutError::UnregisteredRedirect)),
        },
        None => None,
    };

    let session = session::load(&state, &jar).await?;
    let login = session.as_ref().and_then(|s| s.auth.as_ref());
    // Who the hint's client knows this session's citizen as (the same pairwise rule as tokens).
    let session_sub = login.map(|auth| match (&hint, &client) {
        (Some(_), Some(c)) => subject(&state.pairwise_salt, c, &auth.account_id),
        _ => String::new(),
    });
    let confirmed = post
        && params
            .csrf
            .as_deref()
            .zip(session.as_ref())
            .is_some_and(|(csrf, s)| session::csrf_ok(s, csrf));
    if post && params.csrf.is_some() && !confirmed && login.is_some() {
        return Ok(ErrorPage::new(
            StatusCode::FORBIDDEN,
            "Biểu mẫu đã hết hạn. Hãy tải lại trang và thử lại",
            "The form has expired. Reload the page and try again",
        )
        .into_response());
    }
    let jar = match decide(session_sub.as_deref(), hint.as_ref(), confirmed) {
        LogoutDecision::Confirm => {
            let lang = session::lang(
                &jar,
                params.ui_locales.as_deref().and_then(Lang::from_ui_locales),
            );
            let page = LogoutConfirmPage {
                t: texts(lang),
                switch_href: String::new(),
                client_name: client.as_ref().map(|c| c.name.clone()),
                action: paths::END_SESSION,
                csrf: session.map(|s| s.row.csrf).unwrap_or_default(),
                client_id: client
                    .as_ref()
                    .map(|c| c.id.as_str().to_string())
                    .unwrap_or_default(),
                post_logout_redirect_uri: back
                    .as_ref()
                    .map(|u| u.as_str().to_string())
                    .unwrap_or_default(),
                state: params.state.unwrap_or_default(),
            };
            return Ok((jar, page).into_response());
        }
        LogoutDecision::End => {
            if let Some(session) = &session {
                crate::oidc::backchannel::end_session(&state, &session.row.id_hash).await?;
                let event = AuditEvent {
                    kind: "logout",
                    account_id: login.map(|a| a.account_id.as_str()),
                    client_id: client.as_ref().map(|c| c.id.as_str()),
                    detail: json!({ "confirmed": confirmed, "id_token_hint": hint.is_some() }),
                };
                state.store.audit(event, state.now()).await?;
            }
            session::forget(jar)
        }
        LogoutDecision::NothingToEnd => jar,
    };
    Ok((jar, finish(client.as_ref(), back, params.state.as_deref())).into_response())
}

/// Back to the relying party at its registered address, with `state`; else our own page.
fn finish(client: Option<&Client>, back: Option<RedirectUri>, rp_state: Option<&str>) -> Response {
    if let (Some(_), Some(uri)) = (client, back) {
        let target = match rp_state.filter(|s| !s.is_empty()) {
            Some(s) => uri.with_params(&[("state", s)]).to_string(),
            None => uri.as_str().to_string(),
        };
        return Redirect::to(&target).into_response();
    }
    ErrorPage::info(
        "Đã đăng xuất",
        "Logged out",
        "Bạn đã đăng xuất khỏi VNeID",
        "You are logged out of VNeID",
    )
    .into_response()
}

fn refused(error: LogoutError) -> Response {
    tracing::info!(reason = %error, "logout request refused");
    let (vi, en) = match error {
        LogoutError::BadHint => (
            "Yêu cầu đăng xuất không hợp lệ",
            "The logout request is not valid",
        ),
        LogoutError::ClientMismatch | LogoutError::UnknownClient => (
            "Yêu cầu đăng xuất không đến từ một dịch vụ đã đăng ký",
            "The logout request does not come from a registered service",
        ),
        LogoutError::UnregisteredRedirect => (
            "Địa chỉ quay lại sau khi đăng xuất chưa được đăng ký; để bảo vệ bạn, chúng tôi không chuyển tiếp",
            "The address to return to after logout is not registered; to protect you, we do not redirect",
        ),
    };
    ErrorPage::new(StatusCode::BAD_REQUEST, vi, en).into_response()
}
