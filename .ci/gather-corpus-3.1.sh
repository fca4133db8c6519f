#!/usr/bin/env bash
# The real OpenAPI 3.1 documents the tests and benchmarks use when present (codegen's corpus,
# layout and examples tests, oas's 3.1 lint test), kept outside the repository like the corpus.
# Recreates the folder, and its MANIFEST.md of sources, commits and licences, from GitHub
# snapshots (the `fetch` tool brings them into /work/.mirror as bare git directories).
#
# usage: .ci/gather-corpus-3.1.sh [MIRRORS [OUT]]   (defaults: /work/.mirror, ../corpus-3.1)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mirrors=${1:-/work/.mirror}
out=${2:-$root/../corpus-3.1}
mkdir -p "$out"

# mirror | path in the repository | file name here
files=(
  "Adyen+adyen-openapi|json/CheckoutService-v72.json|adyen-checkout-v72.json"
  "Adyen+adyen-openapi|json/PaymentService-v68.json|adyen-payment-v68.json"
  "Adyen+adyen-openapi|json/ManagementService-v3.json|adyen-management-v3.json"
  "Adyen+adyen-openapi|json/BalancePlatformService-v2.json|adyen-balanceplatform-v2.json"
  "Adyen+adyen-openapi|json/LegalEntityService-v4.json|adyen-legalentity-v4.json"
  "Adyen+adyen-openapi|json/TransferService-v4.json|adyen-transfer-v4.json"
  "Adyen+adyen-openapi|json/PayoutService-v68.json|adyen-payout-v68.json"
  "Adyen+adyen-openapi|json/RecurringService-v68.json|adyen-recurring-v68.json"
  "Adyen+adyen-openapi|json/BinLookupService-v54.json|adyen-binlookup-v54.json"
  "Adyen+adyen-openapi|json/StoredValueService-v46.json|adyen-storedvalue-v46.json"
  "Adyen+adyen-openapi|json/DataProtectionService-v1.json|adyen-dataprotection-v1.json"
  "Adyen+adyen-openapi|json/BalancePlatformTransferNotification-v4.json|adyen-transfer-webhooks-v4.json"
  "Adyen+adyen-openapi|json/ManagementNotificationService-v3.json|adyen-management-webhooks-v3.json"
  "mollie+openapi|specs.yaml|mollie.yaml"
  "getlago+lago-openapi|openapi.yaml|lago.yaml"
  "interledger+open-payments-specifications|openapi/resource-server.yaml|interledger-resource-server.yaml"
  "interledger+open-payments-specifications|openapi/auth-server.yaml|interledger-auth-server.yaml"
  "interledger+open-payments-specifications|openapi/wallet-address-server.yaml|interledger-wallet-address-server.yaml"
  "openai+openai-openapi|openapi.json|openai.json"
  "svix+svix-webhooks|codegen/lib-openapi.json|svix.json"
  "mistralai+platform-docs-public|openapi.yaml|mistral.yaml"
)

git_dir() {
  local d="$mirrors/$1/repo"
  if [[ -d "$d/.git" ]]; then echo "$d/.git"; else echo "$d"; fi
}

{
  echo "# Real OpenAPI 3.1 documents (gathered by .ci/gather-corpus-3.1.sh)"
  echo
  echo "Read in place by the tests when present; never copied into the repository."
  echo
  echo "| File | Repository | Path | Commit | Licence | Bytes | openapi |"
  echo "|---|---|---|---|---|---|---|"
} > "$out/MANIFEST.md"
for entry in "${files[@]}"; do
  IFS='|' read -r mirror path name <<< "$entry"
  g=$(git_dir "$mirror")
  if ! git --git-dir="$g" show "HEAD:$path" > "$out/$name" 2>/dev/null; then
    echo "missing: $mirror $path" >&2
    rm -f "$out/$name"
    continue
  fi
  commit=$(git --git-dir="$g" rev-parse HEAD)
  licence="no licence file"
  for f in LICENSE LICENSE.md LICENSE.txt COPYING; do
    if text=$(git --git-dir="$g" show "HEAD:$f" 2>/dev/null); then
      licence=$(grep -oE 'MIT|Apache License|BSD|Mozilla Public License|ISC' <<< "$text" | head -1)
      licence=${licence:-"$f (other)"}
      break
    fi
  done
  bytes=$(stat -c %s "$out/$name")
  version=$(grep -m1 -oE '"?openapi"?[": ]+[0-9.]+' "$out/$name" | grep -oE '[0-9][0-9.]*' || echo "?")
  echo "| $name | ${mirror/+//} | $path | ${commit:0:12} | $licence | $bytes | $version |" >> "$out/MANIFEST.md"
done
echo "$(ls "$out" | grep -vc MANIFEST) documents in $out"
