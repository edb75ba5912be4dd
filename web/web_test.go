package web_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/web"
)

// TestVendorChecksums checks that every vendored library is byte-identical
// to the release listed, with its sha256, in static/vendor/README.md, and
// that the README lists every script in vendor/.
func TestVendorChecksums(t *testing.T) {
	readme, err := fs.ReadFile(web.Static, "static/vendor/README.md")
	if err != nil {
		t.Fatalf("read vendor README: %v", err)
	}
	want := map[string]string{} // file name → sha256
	sc := bufio.NewScanner(strings.NewReader(string(readme)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && len(f[0]) == 64 && strings.HasSuffix(f[1], ".js") {
			want[f[1]] = f[0]
		}
	}
	if len(want) == 0 {
		t.Fatal("vendor README lists no sha256 sums")
	}
	for name, sum := range want {
		b, err := fs.ReadFile(web.Static, "static/vendor/"+name)
		if err != nil {
			t.Errorf("vendor file %s: %v", name, err)
			continue
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("sha256(%s) = %x, want %s (vendored files must stay unmodified)", name, got, sum)
		}
	}
	scripts, err := fs.Glob(web.Static, "static/vendor/*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range scripts {
		if name := strings.TrimPrefix(path, "static/vendor/"); want[name] == "" {
			t.Errorf("vendor file %s has no sha256 in README.md", name)
		}
	}
}

// TestStaticModules checks the files the page loads are embedded.
func TestStaticModules(t *testing.T) {
	for _, name := range []string{"app.js", "graph.js", "live.js", "panel.js", "feed.js", "style.css", "favicon.svg"} {
		if _, err := fs.Stat(web.Static, "static/"+name); err != nil {
			t.Errorf("static/%s: %v", name, err)
		}
	}
}
