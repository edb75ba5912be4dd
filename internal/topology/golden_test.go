package topology_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/topology"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares v, as indented JSON, with testdata/<name>.golden.json,
// or rewrites that file when -update is set. The bytes are compared, not the
// decoded values: the JSON is what the browser reads, so a renamed tag or a
// field that turns from [] to null is a change worth seeing.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	// No HTML escaping, so that IDs read "l:<from>><to>:<alias>" rather
	// than with \u003e; the decoded value is the same either way.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding %s: %v", name, err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-want +got; go test -update rewrites it):\n%s",
			path, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
	}
}

func TestBuildGolden(t *testing.T) {
	checkGolden(t, "build_tutorial", topology.Build(tutorialInventory()))
}

func TestDiffGolden(t *testing.T) {
	before, after := topology.Build(tutorialInventory()), topology.Build(tutorialLater())
	checkGolden(t, "build_tutorial_later", after)
	checkGolden(t, "diff_tutorial", topology.Diff(before, after))
}

// TestGoldenRoundTrip decodes the golden graph and checks that it is the
// graph Build makes, so no field is lost on the wire (a json:"-" tag, say)
// and the browser sees everything Diff compares.
func TestGoldenRoundTrip(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "build_tutorial.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got topology.Graph
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(topology.Build(tutorialInventory()), got); diff != "" {
		t.Errorf("decoded golden graph differs from Build (-want +got):\n%s", diff)
	}
}
