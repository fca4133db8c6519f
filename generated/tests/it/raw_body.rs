//! `support::RawBody`: an owned and a shared body of the same bytes are one value to every
//! reader (equality, hashing, `Debug`, the bytes), and turning an owned one back into a `Vec`
//! keeps its buffer.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use generated::recharge::support::RawBody;

fn hash_of(body: &RawBody) -> u64 {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    hasher.finish()
}

#[test]
fn owned_and_shared_bodies_of_the_same_bytes_read_compare_and_hash_alike() {
    let owned = RawBody::from(b"{\"a\":1}".to_vec());
    let shared = RawBody::from(Arc::<[u8]>::from(&b"{\"a\":1}"[..]));
    assert!(matches!(owned, RawBody::Owned(_)) && matches!(shared, RawBody::Shared(_)));
    assert_eq!(owned, shared);
    assert_eq!(hash_of(&owned), hash_of(&shared));
    assert_eq!(format!("{owned:?}"), format!("{shared:?}"));
    assert_eq!(&*shared, b"{\"a\":1}");
    assert_eq!(shared, b"{\"a\":1}");
    assert_ne!(shared, RawBody::from(b"{\"a\":2}".to_vec()));
    assert!(RawBody::default().is_empty());
    assert_eq!(shared.clone().into_vec(), b"{\"a\":1}".to_vec());
}

#[test]
fn an_owned_body_gives_its_own_buffer_back() {
    let bytes = b"payload".to_vec();
    let at = bytes.as_ptr();
    let back = RawBody::from(bytes).into_vec();
    assert_eq!(back.as_ptr(), at);
}
