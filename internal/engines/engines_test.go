package engines

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeContext makes a docker CLI context in the store under config, as
// `docker context create` lays it out, with the TLS files given.
func writeContext(t *testing.T, config, name, meta string, tlsFiles ...string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	dir := filepath.Join(config, "contexts", "meta", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	tlsDir := filepath.Join(config, "contexts", "tls", id, "docker")
	for _, f := range tlsFiles {
		if err := os.MkdirAll(tlsDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tlsDir, f), []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func env(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

func TestParseRefusesBadInput(t *testing.T) {
	config := t.TempDir()
	writeContext(t, config, "nodocker", `{"Name":"nodocker","Endpoints":{}}`)
	writeContext(t, config, "badhost", `{"Name":"badhost","Endpoints":{"docker":{"Host":"npipe:////./pipe/docker_engine"}}}`)
	writeContext(t, config, "garbled", `{"Name":`)
	writeContext(t, config, "halfkey", `{"Name":"halfkey","Endpoints":{"docker":{"Host":"tcp://h:2376"}}}`, "cert.pem")
	writeContext(t, config, "Remote.Box", `{"Name":"Remote.Box","Endpoints":{"docker":{"Host":"tcp://h:2376"}}}`)
	getenv := env(map[string]string{"DOCKER_CONFIG": config})
	for _, c := range []struct {
		engines, contexts []string
		want              string
	}{
		{[]string{"lab1"}, nil, "--engine lab1: want NAME=DOCKER_HOST"},
		{[]string{"=unix:///s"}, nil, "empty engine name"},
		{[]string{"-lab=unix:///s"}, nil, `engine name "-lab"`},
		{[]string{"Lab=unix:///s"}, nil, `engine name "Lab"`},
		{[]string{"a.b=unix:///s"}, nil, `engine name "a.b"`},
		{[]string{strings.Repeat("a", 32) + "=unix:///s"}, nil, "engine name"},
		{[]string{"lab1=unix://rel/s"}, nil, "engine lab1: daemon address \"unix://rel/s\": a unix socket needs an absolute path"},
		{[]string{"lab1=npipe:////./pipe/x"}, nil, "engine lab1: daemon address \"npipe:////./pipe/x\": unknown scheme npipe://"},
		{[]string{"lab1=10.0.0.1:2375"}, nil, "engine lab1: daemon address"},
		{[]string{"lab1=tcp://:2375"}, nil, "engine lab1: daemon address \"tcp://:2375\": no host name"},
		{[]string{"lab1=ftp://u:hunter2@h"}, nil, "--engine lab1=ftp://h: engine lab1: daemon address \"ftp://h\": unknown scheme ftp://"},
		{[]string{"local=unix:///s"}, nil, `engine "local" is the default engine already`},
		{[]string{"a=unix:///s", "a=tcp://h:2375"}, nil, `--engine a=tcp://h:2375: engine "a" is --engine a=unix:///s already`},
		{[]string{"a=unix:///s"}, []string{"a=halfkey"}, "--context a=halfkey: engine a: context \"halfkey\""},
		{nil, []string{"nope"}, `--context nope: engine nope: no docker context "nope"`},
		{nil, []string{"default"}, `context "default" is the local engine already`},
		{nil, []string{"nodocker"}, `engine nodocker: context "nodocker" has no docker endpoint`},
		{nil, []string{"badhost"}, "engine badhost: context \"badhost\": daemon address \"npipe:////./pipe/docker_engine\": unknown scheme"},
		{nil, []string{"garbled"}, "engine garbled: context \"garbled\""},
		{nil, []string{"Remote.Box"}, "--context ENGINE=Remote.Box"},
		{nil, []string{"box="}, "want a context name"},
		{[]string{"x=unix:///s"}, []string{"x=Remote.Box"}, `engine "x" is --engine x=unix:///s already`},
	} {
		specs, err := Parse(c.engines, c.contexts, getenv)
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("engines %q: the error shows the password: %v", c.engines, err)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("engines %q, contexts %q: err = %v, want one saying %q", c.engines, c.contexts, err, c.want)
		}
		if specs != nil {
			t.Errorf("engines %q, contexts %q: specs %+v with an error", c.engines, c.contexts, specs)
		}
	}
}

func TestParseReadsEnginesAndContexts(t *testing.T) {
	config := t.TempDir()
	writeContext(t, config, "remote", `{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://build.example:2376","SkipTLSVerify":false}}}`, "ca.pem", "cert.pem", "key.pem")
	writeContext(t, config, "Remote.Box", `{"Name":"Remote.Box","Endpoints":{"docker":{"Host":"ssh://me@box","SkipTLSVerify":true}}}`)
	writeContext(t, config, "plain", `{"Name":"plain","Endpoints":{"docker":{"Host":"unix:///run/other.sock"}}}`)
	specs, err := Parse([]string{"lab1=unix:///tmp/lab1.sock", "cloud=tcp://u:secret@10.0.0.5:2376"},
		[]string{"remote", "box=Remote.Box", "plain"}, env(map[string]string{"DOCKER_CONFIG": config}))
	if err != nil {
		t.Fatal(err)
	}
	tlsDir := func(name string) string {
		sum := sha256.Sum256([]byte(name))
		return filepath.Join(config, "contexts", "tls", hex.EncodeToString(sum[:]), "docker")
	}
	want := []Spec{
		{Name: "lab1", Host: "unix:///tmp/lab1.sock"},
		{Name: "cloud", Host: "tcp://u:secret@10.0.0.5:2376"},
		{Name: "remote", Host: "tcp://build.example:2376", Context: "remote", TLS: &TLS{
			CA: filepath.Join(tlsDir("remote"), "ca.pem"), Cert: filepath.Join(tlsDir("remote"), "cert.pem"), Key: filepath.Join(tlsDir("remote"), "key.pem")}},
		{Name: "box", Host: "ssh://me@box", Context: "Remote.Box", TLS: &TLS{SkipVerify: true}},
		{Name: "plain", Host: "unix:///run/other.sock", Context: "plain"},
	}
	if !slices.EqualFunc(specs, want, func(a, b Spec) bool {
		return a.Name == b.Name && a.Host == b.Host && a.Context == b.Context && (a.TLS == nil) == (b.TLS == nil) && (a.TLS == nil || *a.TLS == *b.TLS)
	}) {
		t.Errorf("specs:\n got %+v\nwant %+v", specs, want)
	}
}

func TestConfigDirFollowsTheCLI(t *testing.T) {
	if got := ConfigDir(env(map[string]string{"DOCKER_CONFIG": "/etc/dc", "HOME": "/home/a"})); got != "/etc/dc" {
		t.Errorf("with DOCKER_CONFIG: %q", got)
	}
	if got := ConfigDir(env(map[string]string{"HOME": "/home/a"})); got != "/home/a/.docker" {
		t.Errorf("without DOCKER_CONFIG: %q", got)
	}
}

func TestRedactDropsCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://u:secret@10.0.0.5:2376": "tcp://10.0.0.5:2376",
		"ssh://me@box":                 "ssh://box",
		"unix:///var/run/docker.sock":  "unix:///var/run/docker.sock",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegistryPublishesChangesInOrder(t *testing.T) {
	var frames [][]State
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	r := NewRegistry([]Spec{{Name: Local, Host: "unix:///s"}, {Name: "lab1", Host: "tcp://u:p@h:2375"}},
		func(l []State) { frames = append(frames, l) }, t0)
	if l := r.List(); len(l) != 2 || l[0].Name != Local || l[1].Host != "tcp://h:2375" || l[1].Connected || l[1].Error == "" {
		t.Fatalf("first list = %+v, want local then lab1, connecting, without credentials", l)
	}
	r.Set("lab1", true, "28.5.2", "", t0.Add(time.Second))
	r.Set("lab1", true, "28.5.2", "", t0.Add(2*time.Second)) // no change: no frame
	r.Set("lab1", false, "28.5.2", "refused", t0.Add(3*time.Second))
	r.Set("nobody", true, "1", "", t0)
	if len(frames) != 2 {
		t.Fatalf("%d frames, want 2: %+v", len(frames), frames)
	}
	if s := frames[0][1]; !s.Connected || s.Version != "28.5.2" || s.Error != "" || !s.Since.Equal(t0.Add(time.Second)) {
		t.Errorf("first frame's lab1 = %+v", s)
	}
	if s := frames[1][1]; s.Connected || s.Version != "" || s.Error != "refused" {
		t.Errorf("second frame's lab1 = %+v, want down without a version", s)
	}
	frames[1][1].Error = "changed by a reader"
	if r.List()[1].Error != "refused" {
		t.Error("a frame shares its list with the registry")
	}
}
