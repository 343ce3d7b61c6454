//! Against panva's oidc-provider: the harness and our test relying party speak plain OIDC to a
//! provider we did not write (the SDK's own interoperability test lives in `sdk.rs`).

use vneid_tests::browser::Browser;
use vneid_tests::rp::ThirdPartyRp;
use vneid_tests::spawn_node_provider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standards_login_at_panvas_provider() {
    let node = spawn_node_provider(
        "interop-rp",
        "interop-secret",
        "http://127.0.0.1:3001/callback",
    )
    .await;
    let rp = ThirdPartyRp::discover(
        &node.issuer,
        "interop-rp",
        "interop-secret",
        "http://127.0.0.1:3001/callback",
    )
    .await;
    let started = rp.start(&["openid", "profile"], &[], &[]);
    let browser = Browser::new(&node.issuer);
    let (url, _, html) = browser.navigate(started.url.as_str()).await.page();
    let landing = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "citizen-1"), ("password", "secret")],
        )
        .await;
    let callback = landing.away();
    let done = rp.finish(&callback, started, &node.issuer).await.unwrap();
    assert_eq!(done.claims.subject().as_str(), "citizen-1");
}
