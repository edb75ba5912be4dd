#!/usr/bin/env bash
# The whole test suite: formatting, generated code, vet, staticcheck and
# every test with the race detector, on the real engine and a real browser.
# CI runs exactly this with REQUIRE_DOCKER=1 REQUIRE_BROWSER=1, which turns
# a missing engine or browser from a skip into a failure.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

step gofmt
unformatted=$(gofmt -l $(git ls-files --cached --others --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "templ generate (generated code must be committed fresh)"
sum() { find . -name '*_templ.go' -not -path './.git/*' -print0 | sort -z | xargs -0 -r sha256sum; }
before=$(sum)
go tool templ generate >/dev/null
if [ "$before" != "$(sum)" ]; then
	echo "templ generate changed *_templ.go: the generated code was stale. Review and commit it."; exit 1
fi

step "go vet"
go vet ./...

step staticcheck
go tool staticcheck ./...

step "go test -race"
# The browser tests run on their own, after the rest: Chromium cancels page
# loads (ERR_NETWORK_CHANGED) whenever another package's tests create or
# remove a Docker network on this host, which would make them flaky.
go test -race -count=1 -timeout 30m $(go list ./... | grep -v '/cmd/web$')
go test -race -count=1 -timeout 30m ./cmd/web
