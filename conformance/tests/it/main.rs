//! Integration tests of `conformance`: the mock, the recorder, HAR import and replay, over real loopback HTTP.
//!
//! One integration-test binary for the crate, as ripgrep's `tests/it`: every file
//! here is a module of it, so the tests link once.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod cli_lint;
mod install;
mod mock_chargily;
mod mock_cli;
mod mock_concurrency;
mod mock_planted;
mod mock_recharge;
mod mock_responses_conform;
mod mock_robustness;
mod mock_source;
mod mock_webhooks;
mod record_cli;
mod record_crash;
mod record_roundtrip;
mod record_secrets;
mod recordings_cover;
mod replay_catches_bugs;
mod replay_cli;
mod replay_engine;
mod replay_shared_target;
mod replay_snapshots;
mod replay_vendor;
mod report_html;
mod sdk_client;
mod support;
mod webhook_receiver;
mod webhook_sender;
