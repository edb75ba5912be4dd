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
	for _, name := range []string{
		"app.js", "graph.js", "live.js", "panel.js", "feed.js", "style.css", "favicon.svg",
		"api.js", "dom.js", "dialogs.js", "jobs.js", "actions.js", "run.js", "probes.js", "ping-form.js",
		"matrix.js", "links.js", "leftovers.js", "tooltip.js", "steps.js", "plan-view.js", "plan-dialog.js", "planned.js",
		"invite.js", "watchers.js", "engines.js",
	} {
		if _, err := fs.Stat(web.Static, "static/"+name); err != nil {
			t.Errorf("static/%s: %v", name, err)
		}
	}
}

// TestStaticScriptsWriteNoHTML checks that the page's own scripts put no
// markup into the page: Docker text goes in through textContent. The one
// exception is panel.js, which inserts the server's templ-escaped panel
// fragment.
func TestStaticScriptsWriteNoHTML(t *testing.T) {
	scripts, err := fs.Glob(web.Static, "static/*.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatal("no scripts in static/")
	}
	banned := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"}
	for _, path := range scripts {
		b, err := fs.ReadFile(web.Static, path)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		for _, word := range banned {
			n := strings.Count(src, word)
			if path == "static/panel.js" && word == "innerHTML" {
				// Only the one assignment of the fragment (and comments).
				code := 0
				for _, line := range strings.Split(src, "\n") {
					if strings.Contains(line, word) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
						code++
					}
				}
				if got := strings.Count(src, "panel.innerHTML = html"); got != 1 || code != 1 {
					t.Errorf("%s: innerHTML in %d lines of code, want only panel.innerHTML = html", path, code)
				}
				continue
			}
			if n != 0 {
				t.Errorf("%s uses %s %d times; build nodes with dom.js h() and textContent", path, word, n)
			}
		}
	}
}
