package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dockmap --lessons DIR serves the instructor's good lesson files beside
// the built-in ones, and names each bad one with its line in the log;
// a missing directory stops it at start with a clear error.
func TestLessonsFlag(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ours.yaml": "id: ours\ntitle: Ours\nsteps:\n  - id: a\n    title: A\n    check: {kind: running, container: web}\n",
		"typo.yaml": "id: typo\ntitle: Typo\nsteps:\n  - id: a\n    title: A\n    check: {kind: runing, container: web}\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--lessons", dir)
	resp, err := http.Get(base + "/api/lessons")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range list {
		ids = append(ids, l.ID)
	}
	if got := strings.Join(ids, ","); got != "links,bridges,sharing,ours" {
		t.Errorf("lessons served: %s, want links,bridges,sharing,ours", got)
	}
	if out := output(); !strings.Contains(out, `typo.yaml:6: step a: unknown check kind \"runing\"`) {
		t.Errorf("the log does not name typo.yaml's line and fault:\n%s", out)
	}

	_, cfgErr := parseFlags([]string{"dockmap", "--lessons", filepath.Join(dir, "missing")}, envOf(nil), &strings.Builder{})
	if cfgErr == nil || !strings.Contains(cfgErr.Error(), "--lessons") {
		t.Errorf("a missing lessons directory: %v, want an error naming --lessons", cfgErr)
	}
}
