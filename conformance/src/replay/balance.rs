//! The balance: global state. Every paid checkout of every client moves it, so on a shared
//! target its value says nothing about one scenario; what a scenario can assert is how much
//! *its own* actions moved it, and only while nothing else runs (an `exclusive` scenario, or a
//! fresh embedded mock). Then the change of each wallet figure between the scenario's first
//! balance and a later one must equal the recorded change (`balance-change`).

use serde_json::Value;

use super::outcome::{Rule, Violation};

/// The operations whose responses are a balance.
pub const OPERATIONS: [&str; 1] = ["retrieveBalance"];

/// The wallet figures compared (numbers, or numbers in strings as `ready_for_payout`).
const FIGURES: [&str; 3] = ["balance", "ready_for_payout", "on_hold"];

/// The first balance of a scenario, recorded and live.
#[derive(Debug, Default)]
pub struct Baseline(Option<(Value, Value)>);

impl Baseline {
    /// Checks a balance response against the first one (which it becomes if there is none).
    pub fn check(&mut self, recorded: &Value, live: &Value) -> Vec<Violation> {
        let Some((r0, l0)) = &self.0 else {
            self.0 = Some((recorded.clone(), live.clone()));
            return Vec::new();
        };
        let mut out = Vec::new();
        let Some(wallets) = recorded.get("wallets").and_then(Value::as_array) else {
            return out;
        };
        for wallet in wallets {
            let Some(currency) = wallet.get("currency").and_then(Value::as_str) else {
                continue;
            };
            let (Some(li), Some(l_now)) = (index_of(live, currency), wallet_of(live, currency))
            else {
                continue;
            };
            for figure in FIGURES {
                let recorded_change = delta(wallet_of(r0, currency), Some(wallet), figure);
                let live_change = delta(wallet_of(l0, currency), Some(l_now), figure);
                if let (Some(want), Some(got)) = (recorded_change, live_change)
                    && (want - got).abs() > 1e-9
                {
                    out.push(Violation {
                        rule: Rule::BalanceChange,
                        instance_pointer: format!("/wallets/{li}/{figure}"),
                        schema_pointer: "recording".into(),
                        expected: format!(
                            "a change of {want} {currency} since the scenario's first balance (as recorded)"
                        ),
                        actual: format!("a change of {got}"),
                    });
                }
            }
        }
        out
    }
}

fn index_of(balance: &Value, currency: &str) -> Option<usize> {
    balance
        .get("wallets")?
        .as_array()?
        .iter()
        .position(|w| w.get("currency").and_then(Value::as_str) == Some(currency))
}

fn wallet_of<'a>(balance: &'a Value, currency: &str) -> Option<&'a Value> {
    balance.get("wallets")?.get(index_of(balance, currency)?)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn delta(before: Option<&Value>, after: Option<&Value>, figure: &str) -> Option<f64> {
    Some(number(after?.get(figure)?)? - number(before?.get(figure)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn balance(dzd: i64, payout: &str) -> Value {
        json!({"entity": "balance", "wallets": [
            {"currency": "dzd", "balance": dzd, "ready_for_payout": payout, "on_hold": 0}]})
    }

    #[test]
    fn changes_are_compared_not_values() {
        let mut b = Baseline::default();
        // The shared target already held 5000 (others' payments): not a finding.
        assert!(b.check(&balance(0, "0"), &balance(5000, "5000")).is_empty());
        assert!(
            b.check(&balance(19500, "0"), &balance(24500, "5000"))
                .is_empty()
        );
        let v = b.check(&balance(19500, "0"), &balance(5000, "5000"));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, "balance-change");
        assert_eq!(v[0].instance_pointer, "/wallets/0/balance");
        assert!(v[0].expected.contains("19500") && v[0].actual.contains('0'));
    }
}
