//! `verify` on self-signed requests: what passes and every way to fail.

use super::*;

#[test]
fn self_signed_request_verifies_and_records_its_nonce() {
    let cache = NonceCache::default();
    assert_eq!(
        verify_signed(SECRET, "n1", "1700000000", &cache),
        Ok(KEY.to_owned())
    );
    assert_eq!(cache.len_for(KEY), 1);
}

#[test]
fn wrong_secret_is_a_bad_signature_and_records_nothing() {
    let cache = NonceCache::default();
    assert_eq!(
        verify_signed("not-the-secret", "n1", "1700000000", &cache),
        Err(OAuthError::BadSignature)
    );
    assert_eq!(cache.keys_tracked(), 0);
    // The genuine request with that nonce is still accepted afterwards.
    assert_eq!(
        verify_signed(SECRET, "n1", "1700000000", &cache),
        Ok(KEY.to_owned())
    );
}

#[test]
fn replay_is_rejected() {
    let cache = NonceCache::default();
    assert_eq!(
        verify_signed(SECRET, "n1", "1700000000", &cache),
        Ok(KEY.to_owned())
    );
    assert_eq!(
        verify_signed(SECRET, "n1", "1700000000", &cache),
        Err(OAuthError::ReplayedNonce)
    );
}

#[test]
fn timestamps_at_the_window_edge_pass_and_beyond_it_fail() {
    let cache = NonceCache::default();
    assert!(verify_signed(SECRET, "a", "1699999400", &cache).is_ok());
    assert!(verify_signed(SECRET, "b", "1700000600", &cache).is_ok());
    assert_eq!(
        verify_signed(SECRET, "c", "1699999399", &cache),
        Err(OAuthError::StaleTimestamp {
            skew_secs: -601,
            window_secs: 600
        })
    );
    assert_eq!(
        verify_signed(SECRET, "d", "1700000601", &cache),
        Err(OAuthError::StaleTimestamp {
            skew_secs: 601,
            window_secs: 600
        })
    );
    assert_eq!(
        verify_signed(SECRET, "e", "0", &cache),
        Err(OAuthError::StaleTimestamp {
            skew_secs: -1_700_000_000,
            window_secs: 600
        })
    );
}

#[test]
fn malformed_timestamps_are_rejected() {
    let cache = NonceCache::default();
    for ts in [
        "+1700000000",
        "1700000000.5",
        "-1",
        "17e8",
        "99999999999999999999999",
    ] {
        assert_eq!(
            verify_signed(SECRET, "n", ts, &cache),
            Err(OAuthError::BadTimestamp),
            "{ts}"
        );
    }
}

#[test]
fn overlong_nonce_is_rejected() {
    let cache = NonceCache::default();
    let nonce = "x".repeat(MAX_NONCE_LEN + 1);
    assert_eq!(
        verify_signed(SECRET, &nonce, "1700000000", &cache),
        Err(OAuthError::BadNonce)
    );
    assert!(verify_signed(SECRET, &nonce[1..], "1700000000", &cache).is_ok());
}

#[test]
fn a_timestamp_below_the_keys_floor_is_stale() {
    let cache = NonceCache::with_capacity_per_key(600, 1);
    assert!(verify_signed(SECRET, "a", "1700000000", &cache).is_ok());
    assert!(verify_signed(SECRET, "b", "1700000001", &cache).is_ok());
    let refused = verify_signed(SECRET, "c", "1700000000", &cache);
    assert_eq!(
        refused,
        Err(OAuthError::TimestampBelowFloor {
            timestamp: 1_700_000_000,
            floor: 1_700_000_000,
            capacity: 1
        })
    );
    assert_eq!(refused.unwrap_err().http_status(), 401);
}

#[test]
fn the_claimed_key_is_read_without_verifying() {
    let header = header_from(&[("oauth_consumer_key", "someone"), ("oauth_nonce", "n")]);
    let req = RequestParts {
        authorization: Some(&header),
        ..request("GET", "a", "/")
    };
    assert_eq!(claimed_consumer_key(&req).as_deref(), Some("someone"));
    assert_eq!(claimed_consumer_key(&request("GET", "a", "/")), None);
    let garbage = RequestParts {
        authorization: Some("OAuth ,,,\""),
        ..request("GET", "a", "/")
    };
    assert_eq!(claimed_consumer_key(&garbage), None);
}

#[test]
fn only_unknown_keys_and_bad_signatures_are_guesses() {
    assert!(OAuthError::BadSignature.is_guess());
    assert!(OAuthError::UnknownConsumerKey("k".into()).is_guess());
    assert!(!OAuthError::ReplayedNonce.is_guess());
    assert!(!OAuthError::MissingParameter("oauth_nonce").is_guess());
}

#[test]
fn unknown_consumer_key() {
    let req = request("GET", "a", "/");
    let header = signed_header(
        req,
        SECRET,
        &[
            ("oauth_consumer_key", "someone-else"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1700000000"),
            ("oauth_nonce", "n"),
        ],
    );
    let req = RequestParts {
        authorization: Some(&header),
        ..req
    };
    assert_eq!(
        verify(&req, secret_for, NOW, &NonceCache::default()),
        Err(OAuthError::UnknownConsumerKey("someone-else".to_owned()))
    );
}

#[test]
fn tampering_with_any_signed_part_breaks_the_signature() {
    let req = RequestParts {
        query: Some("x=1"),
        ..request("GET", "127.0.0.1:8443", "/apis/servers")
    };
    let oauth = [
        ("oauth_consumer_key", KEY),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_nonce", "n"),
    ];
    let header = signed_header(req, SECRET, &oauth);
    let signed = RequestParts {
        authorization: Some(&header),
        ..req
    };
    assert!(verify(&signed, secret_for, NOW, &NonceCache::default()).is_ok());
    let tampered = [
        RequestParts {
            method: "POST",
            ..signed
        },
        RequestParts {
            scheme: "http",
            ..signed
        },
        RequestParts {
            host: "127.0.0.1:8444",
            ..signed
        },
        RequestParts {
            path: "/apis/server",
            ..signed
        },
        RequestParts {
            query: Some("x=2"),
            ..signed
        },
        RequestParts {
            query: None,
            ..signed
        },
    ];
    for req in tampered {
        assert_eq!(
            verify(&req, secret_for, NOW, &NonceCache::default()),
            Err(OAuthError::BadSignature),
            "{req:?}"
        );
    }
    // The case of the method and of the scheme does not matter.
    let equivalent = [
        RequestParts {
            method: "get",
            ..signed
        },
        RequestParts {
            scheme: "HTTPS",
            ..signed
        },
    ];
    for req in equivalent {
        assert!(
            verify(&req, secret_for, NOW, &NonceCache::default()).is_ok(),
            "{req:?}"
        );
    }
}

#[test]
fn https_default_port_in_host_header_is_irrelevant() {
    let req = request("GET", "example.com:443", "/x");
    let oauth = [
        ("oauth_consumer_key", KEY),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_nonce", "n"),
    ];
    let header = signed_header(req, SECRET, &oauth);
    let without_port = RequestParts {
        host: "Example.COM",
        authorization: Some(&header),
        ..req
    };
    assert!(verify(&without_port, secret_for, NOW, &NonceCache::default()).is_ok());
}

#[test]
fn garbage_signature_is_a_bad_signature() {
    let header = format!(
        "{}, oauth_signature=\"%%%\"",
        header_from(&[
            ("oauth_consumer_key", KEY),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1700000000"),
            ("oauth_nonce", "n"),
        ])
    );
    let req = RequestParts {
        authorization: Some(&header),
        ..request("GET", "a", "/")
    };
    assert!(matches!(
        verify(&req, secret_for, NOW, &NonceCache::default()),
        Err(OAuthError::MalformedHeader(_) | OAuthError::MalformedParameters(_))
    ));
    let header = header.replace("%%%", "not+base64!");
    let req = RequestParts {
        authorization: Some(&header),
        ..req
    };
    assert_eq!(
        verify(&req, secret_for, NOW, &NonceCache::default()),
        Err(OAuthError::BadSignature)
    );
}

fn verify_header(header: &str) -> Result<String, OAuthError> {
    let req = RequestParts {
        authorization: Some(header),
        ..request("GET", "a", "/")
    };
    verify(&req, secret_for, NOW, &NonceCache::default())
}

#[test]
fn each_required_parameter_is_checked() {
    let all = [
        ("oauth_consumer_key", KEY),
        ("oauth_signature", "c2ln"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_nonce", "n"),
    ];
    for (i, (missing, _)) in all.iter().enumerate() {
        let mut rest = all.to_vec();
        rest.remove(i);
        assert_eq!(
            verify_header(&header_from(&rest)),
            Err(OAuthError::MissingParameter(missing)),
            "without {missing}"
        );
        let mut empty = all.to_vec();
        empty[i].1 = "";
        assert_eq!(
            verify_header(&header_from(&empty)),
            Err(OAuthError::MissingParameter(missing)),
            "with empty {missing}"
        );
    }
    assert_eq!(
        verify_header("OAuth"),
        Err(OAuthError::MissingParameter("oauth_consumer_key"))
    );
    let no_header = request("GET", "a", "/");
    assert_eq!(
        verify(&no_header, secret_for, NOW, &NonceCache::default()),
        Err(OAuthError::MissingParameter("oauth_consumer_key"))
    );
}

#[test]
fn only_hmac_sha1_and_version_1_0_are_supported() {
    let base = [
        ("oauth_consumer_key", KEY),
        ("oauth_signature", "c2ln"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_nonce", "n"),
    ];
    for method in ["PLAINTEXT", "RSA-SHA1", "HMAC-SHA256", "hmac-sha1"] {
        let mut params = base.to_vec();
        params.push(("oauth_signature_method", method));
        assert_eq!(
            verify_header(&header_from(&params)),
            Err(OAuthError::UnsupportedSignatureMethod(method.to_owned()))
        );
    }
    for version in ["1.0a", "2.0", ""] {
        let mut params = base.to_vec();
        params.push(("oauth_signature_method", "HMAC-SHA1"));
        params.push(("oauth_version", version));
        assert_eq!(
            verify_header(&header_from(&params)),
            Err(OAuthError::UnsupportedVersion(version.to_owned()))
        );
    }
}

#[test]
fn duplicated_oauth_parameters_are_rejected() {
    let header = header_from(&[
        ("oauth_consumer_key", KEY),
        ("oauth_nonce", "a"),
        ("oauth_nonce", "b"),
    ]);
    assert_eq!(
        verify_header(&header),
        Err(OAuthError::DuplicateParameter("oauth_nonce".to_owned()))
    );
    // Also across locations.
    let header = header_from(&[("oauth_consumer_key", KEY)]);
    let req = RequestParts {
        authorization: Some(&header),
        query: Some("oauth_consumer_key=x"),
        ..request("GET", "a", "/")
    };
    assert_eq!(
        verify(&req, secret_for, NOW, &NonceCache::default()),
        Err(OAuthError::DuplicateParameter(
            "oauth_consumer_key".to_owned()
        ))
    );
}

#[test]
fn repeated_ordinary_parameters_are_fine() {
    let req = RequestParts {
        query: Some("id=2&id=1&id=2"),
        ..request("GET", "127.0.0.1:8443", "/apis/inputs")
    };
    let oauth = [
        ("oauth_consumer_key", KEY),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_nonce", "n"),
    ];
    let header = signed_header(req, SECRET, &oauth);
    let req = RequestParts {
        authorization: Some(&header),
        ..req
    };
    assert!(signature_base_string(&req)
        .unwrap_or_default()
        .contains("id%3D1%26id%3D2%26id%3D2"));
    assert!(verify(&req, secret_for, NOW, &NonceCache::default()).is_ok());
}

#[test]
fn oauth_parameters_split_over_locations_are_rejected() {
    let header = header_from(&[("oauth_consumer_key", KEY), ("oauth_nonce", "n")]);
    let req = RequestParts {
        authorization: Some(&header),
        query: Some("oauth_timestamp=1700000000"),
        ..request("GET", "a", "/")
    };
    assert_eq!(
        verify(&req, secret_for, NOW, &NonceCache::default()),
        Err(OAuthError::MixedParameterLocations)
    );
}

#[test]
fn non_oauth_authorization_scheme_is_rejected() {
    assert!(matches!(
        verify_header("Basic dXNlcjpwYXNz"),
        Err(OAuthError::MalformedHeader(_))
    ));
}

#[test]
fn realm_is_not_signed_but_a_query_realm_is() {
    let with_realm = RequestParts {
        authorization: Some("OAuth realm=\"x\", oauth_nonce=\"n\""),
        ..request("GET", "a", "/")
    };
    let without = RequestParts {
        authorization: Some("OAuth oauth_nonce=\"n\""),
        ..with_realm
    };
    assert_eq!(
        signature_base_string(&with_realm),
        signature_base_string(&without)
    );
    let query_realm = RequestParts {
        query: Some("realm=x"),
        ..without
    };
    assert!(signature_base_string(&query_realm)
        .unwrap_or_default()
        .contains("realm%3Dx"));
}

#[test]
fn statuses_follow_rfc5849_section_3_2() {
    assert_eq!(
        OAuthError::MissingParameter("oauth_nonce").http_status(),
        400
    );
    assert_eq!(OAuthError::BadSignature.http_status(), 401);
    assert_eq!(OAuthError::ReplayedNonce.http_status(), 401);
}
