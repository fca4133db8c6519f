//! 64 concurrent clients creating and reading checkouts, on keep-alive connections: every
//! created checkout is retrievable with what was sent, none is lost or duplicated, and the
//! paginated lists agree with what was created.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Resp, cg, rc, read_response, server_with};

const CLIENTS: usize = 64;
const PER_CLIENT: usize = 15;

/// A keep-alive connection.
struct Conn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Self { stream, reader }
    }

    fn send(&mut self, method: &str, path: &str, auth: (&str, &str), body: Option<&Value>) -> Resp {
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: mock\r\n{}: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            auth.0,
            auth.1,
            body.len()
        );
        self.stream.write_all(head.as_bytes()).unwrap();
        self.stream.write_all(&body).unwrap();
        read_response(&mut self.reader)
    }
}

#[test]
fn sixty_four_clients_lose_and_duplicate_nothing() {
    let s = server_with(|c| {
        c.recharge_rate_limit = false;
        c.self_check = false;
        c.clock = conformance::mock::ClockMode::System;
        c.seed = None;
    });
    let addr = s.addr();
    // Each client creates checkouts with amounts unique to it, reading each one back at once.
    let created: Vec<Vec<(String, i64, String)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                scope.spawn(move || {
                    let mut conn = Conn::open(addr);
                    let mut mine = Vec::new();
                    for i in 0..PER_CLIENT {
                        let amount = 1000 + (client * PER_CLIENT + i) as i64;
                        let body = json!({"amount": amount, "currency": "dzd", "success_url": "https://a.test/ok"});
                        let r = conn.send("POST", "/chargily/test/api/v2/checkouts", support::CHARGILY_AUTH, Some(&body));
                        assert_eq!(r.status, 200, "{}", r.text());
                        let id = r.json()["id"].as_str().unwrap().to_owned();
                        let back = conn.send("GET", &format!("/chargily/test/api/v2/checkouts/{id}"), support::CHARGILY_AUTH, None);
                        assert_eq!(back.status, 200);
                        assert_eq!(back.json()["amount"], amount);

                        let body = json!({"line_items": [{"variant_id": amount, "quantity": 1, "price": format!("{amount}.00")}]});
                        let r = conn.send("POST", "/recharge/checkouts", support::RECHARGE_AUTH, Some(&body));
                        assert_eq!(r.status, 200, "{}", r.text());
                        let token = r.json()["checkout"]["token"].as_str().unwrap().to_owned();
                        let back = conn.send("GET", &format!("/recharge/checkouts/{token}"), support::RECHARGE_AUTH, None);
                        assert_eq!(back.json()["checkout"]["total_price"], format!("{amount}.00"));
                        mine.push((id, amount, token));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<(String, i64, String)> = created.into_iter().flatten().collect();
    assert_eq!(all.len(), CLIENTS * PER_CLIENT);
    let ids: BTreeSet<&str> = all.iter().map(|(id, _, _)| id.as_str()).collect();
    let tokens: BTreeSet<&str> = all.iter().map(|(_, _, t)| t.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "duplicate Chargily ids");
    assert_eq!(tokens.len(), all.len(), "duplicate ReCharge tokens");

    // Every checkout is still there, with its own amount.
    for (id, amount, token) in &all {
        let c = cg(&s, "GET", &format!("/checkouts/{id}"), None).json();
        assert_eq!(c["amount"], *amount);
        let r = rc(&s, "GET", &format!("/checkouts/{token}"), None).json();
        assert_eq!(r["checkout"]["line_items"][0]["variant_id"], *amount);
    }

    // The list holds exactly the created checkouts, each once, in a stable order.
    let mut listed: BTreeMap<String, i64> = BTreeMap::new();
    let mut order = Vec::new();
    let mut page = 1;
    loop {
        let p = cg(
            &s,
            "GET",
            &format!("/checkouts?per_page=50&page={page}"),
            None,
        )
        .json();
        assert_eq!(p["total"], all.len());
        for c in p["data"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap().to_owned();
            order.push(id.clone());
            assert!(
                listed.insert(id, c["amount"].as_i64().unwrap()).is_none(),
                "listed twice"
            );
        }
        if p["next_page_url"].is_null() {
            assert_eq!(p["last_page"], page);
            break;
        }
        page += 1;
    }
    let expected: BTreeMap<String, i64> = all.iter().map(|(id, a, _)| (id.clone(), *a)).collect();
    assert_eq!(listed, expected);
    // Each client's checkouts appear in the order it created them.
    let position: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    for chunk in all.chunks(PER_CLIENT) {
        let positions: Vec<usize> = chunk
            .iter()
            .map(|(id, _, _)| position[id.as_str()])
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }
}
