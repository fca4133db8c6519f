//! The golden fixtures of `codegen/tests/fixtures`, generated into `OUT_DIR` by `build.rs`
//! and included here, one module per fixture. Tests in `tests/` exercise what each mapping
//! promises; a fixture whose output does not compile fails the build.
//!
//! Adding a fixture: add `codegen/tests/fixtures/NAME.yaml` and a module below.

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod all_of {
    include!(concat!(env!("OUT_DIR"), "/all_of.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod client {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

/// The client and the server of one spec (`tests/it/server.rs` sends the one to the other).
#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod client_server {
    include!(concat!(env!("OUT_DIR"), "/client_server.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod constructors {
    include!(concat!(env!("OUT_DIR"), "/constructors.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod control_characters {
    include!(concat!(env!("OUT_DIR"), "/control_characters.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod discriminator {
    include!(concat!(env!("OUT_DIR"), "/discriminator.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod enum_catch_all {
    include!(concat!(env!("OUT_DIR"), "/enum_catch_all.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod enums {
    include!(concat!(env!("OUT_DIR"), "/enums.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod extensible_enum {
    include!(concat!(env!("OUT_DIR"), "/extensible_enum.rs"));
}

/// Operations behind cargo features per tag: this crate declares them, all on by default
/// (`codegen/tests/it/features.rs` compiles each alone).
#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod features_client_3_1 {
    include!(concat!(env!("OUT_DIR"), "/features_client_3_1.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod formats {
    include!(concat!(env!("OUT_DIR"), "/formats.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod maps {
    include!(concat!(env!("OUT_DIR"), "/maps.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod names {
    include!(concat!(env!("OUT_DIR"), "/names.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod nullable_forms {
    include!(concat!(env!("OUT_DIR"), "/nullable_forms.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod operations {
    include!(concat!(env!("OUT_DIR"), "/operations.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod presence {
    include!(concat!(env!("OUT_DIR"), "/presence.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod recursive {
    include!(concat!(env!("OUT_DIR"), "/recursive.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod refs_3_1 {
    include!(concat!(env!("OUT_DIR"), "/refs_3_1.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod structs {
    include!(concat!(env!("OUT_DIR"), "/structs.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod tuples_3_1 {
    include!(concat!(env!("OUT_DIR"), "/tuples_3_1.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod types_3_1 {
    include!(concat!(env!("OUT_DIR"), "/types_3_1.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod unions {
    include!(concat!(env!("OUT_DIR"), "/unions.rs"));
}

#[allow(deprecated, dead_code, clippy::all, clippy::pedantic)]
pub mod untyped_3_1 {
    include!(concat!(env!("OUT_DIR"), "/untyped_3_1.rs"));
}
