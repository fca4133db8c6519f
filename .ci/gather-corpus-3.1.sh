#!/usr/bin/env bash
# The real OpenAPI 3.1 documents the tests and benchmarks use when present (codegen's corpus,
# layout and examples tests, oas's 3.1 lint test), kept outside the repository like the corpus.
# Recreates the folder, and its MANIFEST.md of sources, commits and licences, from GitHub
# snapshots (the `fetch` tool brings them into /work/.mirror as bare git directories).
# Every document is a single file (no `$ref` to another file) whose top-level `openapi` is 3.1.x;
# the check needs python3 with PyYAML, and the script fails if a document is missing or fails it.
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
  local d="$mirrors/$1"
  if [[ -d "$d/repo/.git" ]]; then echo "$d/repo/.git"
  elif [[ -d "$d/repo" ]]; then echo "$d/repo"
  else echo "$d"; fi
}

# The licence of a repository, from its LICENSE file at HEAD, as an SPDX name.
licence_of() {
  local g=$1 f text
  for f in LICENSE LICENSE.md LICENSE.txt LICENCE COPYING; do
    text=$(git --git-dir="$g" show "HEAD:$f" 2>/dev/null) || continue
    if grep -q 'GNU AFFERO GENERAL PUBLIC LICENSE' <<< "$text"; then echo "AGPL-3.0"
    elif grep -q 'GNU LESSER GENERAL PUBLIC LICENSE' <<< "$text"; then echo "LGPL-3.0"
    elif grep -q 'GNU GENERAL PUBLIC LICENSE' <<< "$text"; then echo "GPL"
    elif grep -q 'Apache License' <<< "$text" && grep -q 'Version 2.0' <<< "$text"; then echo "Apache-2.0"
    elif grep -q 'Mozilla Public License Version 2.0' <<< "$text"; then echo "MPL-2.0"
    elif grep -q 'Permission is hereby granted, free of charge' <<< "$text"; then echo "MIT"
    elif grep -q 'Permission to use, copy, modify, and/or distribute' <<< "$text"; then echo "ISC"
    elif grep -q 'Redistribution and use in source and binary forms' <<< "$text"; then echo "BSD"
    else echo "$f (unrecognised)"; fi
    return
  done
  echo "none"
}

# "openapi version<TAB>info.license of the document", or an error (exit 1) when the document
# is not OpenAPI 3.1.x or has a $ref to another file.
check_doc() {
  python3 - "$1" <<'PY'
import json, sys, yaml
path = sys.argv[1]
Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
class Loader(Base):
    pass
# dates stay strings (some documents hold examples such as 2024-02-30)
Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda l, n: l.construct_scalar(n))
with open(path, "rb") as f:
    data = f.read()
doc = json.loads(data) if path.endswith(".json") else yaml.load(data, Loader=Loader)
external = []
stack = [doc]
while stack:
    o = stack.pop()
    if isinstance(o, dict):
        r = o.get("$ref")
        if isinstance(r, str) and not r.startswith("#"):
            external.append(r)
        stack.extend(o.values())
    elif isinstance(o, list):
        stack.extend(o)
version = str(doc.get("openapi", ""))
if not version.startswith("3.1"):
    sys.exit(f"{path}: openapi is {version!r}, not 3.1.x")
if external:
    sys.exit(f"{path}: {len(external)} $ref to other files, e.g. {external[0]}")
lic = (doc.get("info") or {}).get("license") or {}
print(version + "\t" + str(lic.get("identifier") or lic.get("name") or ""))
PY
}

manifest="$out/MANIFEST.md"
{
  echo "# Real OpenAPI 3.1 documents (gathered by .ci/gather-corpus-3.1.sh)"
  echo
  echo "Read in place by the tests and benchmarks when present; never copied into the repository."
  echo "Each is a single file (no \`\$ref\` to another file) with a top-level \`openapi: 3.1.x\`."
  echo "Licence is that of the repository's LICENSE file at the commit; where the repository has"
  echo "none, the licence the document itself declares in \`info.license\` is given in brackets."
  echo
  echo "| File | Repository | Path | Commit | Licence | Bytes | openapi |"
  echo "|---|---|---|---|---|---|---|"
} > "$manifest"
failed=0
count=0
for entry in "${files[@]}"; do
  IFS='|' read -r mirror path name <<< "$entry"
  g=$(git_dir "$mirror")
  if ! git --git-dir="$g" show "HEAD:$path" > "$out/$name" 2>/dev/null; then
    echo "missing: $mirror $path" >&2
    rm -f "$out/$name"
    failed=1
    continue
  fi
  if ! info=$(check_doc "$out/$name"); then
    rm -f "$out/$name"
    failed=1
    continue
  fi
  version=${info%%$'\t'*}
  declared=${info#*$'\t'}
  commit=$(git --git-dir="$g" rev-parse HEAD)
  licence=$(licence_of "$g")
  if [[ $licence == none ]]; then
    licence="no LICENSE file${declared:+ (document: $declared)}"
  fi
  bytes=$(stat -c %s "$out/$name")
  echo "| $name | ${mirror/+//} | $path | $commit | $licence | $bytes | $version |" >> "$manifest"
  count=$((count + 1))
done

# files in the folder that this list does not make (left alone, but reported)
for f in "$out"/*; do
  n=$(basename "$f")
  [[ $n == MANIFEST.md ]] && continue
  printf '%s\n' "${files[@]}" | grep -q "|$n\$" || echo "not in the list: $f" >&2
done
echo "$count of ${#files[@]} documents in $out"
exit "$failed"
