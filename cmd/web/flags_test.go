package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/connlimit"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
)

// envOf returns a getenv that knows only the given variables.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestAllowBindFlag(t *testing.T) {
	env := func(k string) string { return "" }
	for _, bad := range []string{"/", "relative/dir", "/var/run", "/run", "/var", "/var/run/docker.sock", "/x:y"} {
		if _, err := parseFlags([]string{"dockmap", "--allow-bind", bad}, env, io.Discard); err == nil || !strings.Contains(err.Error(), "--allow-bind") {
			t.Errorf("--allow-bind %q: err = %v, want a refusal naming the flag", bad, err)
		}
	}
	cfg, err := parseFlags([]string{"dockmap", "--allow-bind", "/srv/data, /tmp/x/"}, env, io.Discard)
	if err != nil {
		t.Fatalf("--allow-bind /srv/data,/tmp/x/: %v", err)
	}
	if want := []string{"/srv/data", "/tmp/x"}; !slices.Equal(cfg.allowBinds, want) {
		t.Errorf("allowBinds = %q, want %q", cfg.allowBinds, want)
	}
	fromEnv := func(k string) string {
		if k == "DOCKMAP_ALLOW_BINDS" {
			return "/"
		}
		return ""
	}
	if _, err := parseFlags([]string{"dockmap"}, fromEnv, io.Discard); err == nil {
		t.Error("DOCKMAP_ALLOW_BINDS=/ accepted, want a refusal")
	}
}

// TestAllowDangerousSpecsFlag: dangerous specs are refused unless the flag
// or DOCKMAP_ALLOW_DANGEROUS_SPECS=1 says otherwise; a garbled env value
// stops the start rather than being read as either.
func TestAllowDangerousSpecsFlag(t *testing.T) {
	checkBoolFlag(t, "allow-dangerous-specs", "DOCKMAP_ALLOW_DANGEROUS_SPECS", func(c config) bool { return c.allowDangerous })
}

// checkBoolFlag checks a switch that is off by default: --flag turns it
// on, --flag=false off even when env says 1, env 1 on, 0 or empty off,
// and any other env value stops the start with a message naming env.
func checkBoolFlag(t *testing.T, flag, env string, get func(config) bool) {
	t.Helper()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"default", []string{"dockmap"}, nil, false},
		{"flag", []string{"dockmap", "--" + flag}, nil, true},
		{"flag=false", []string{"dockmap", "--" + flag + "=false"}, map[string]string{env: "1"}, false},
		{"env 1", []string{"dockmap"}, map[string]string{env: "1"}, true},
		{"env 0", []string{"dockmap"}, map[string]string{env: "0"}, false},
		{"env empty", []string{"dockmap"}, map[string]string{env: ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, envOf(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if got := get(cfg); got != tt.want {
				t.Errorf("--%s: got %v, want %v", flag, got, tt.want)
			}
		})
	}
	_, err := parseFlags([]string{"dockmap"}, envOf(map[string]string{env: "yes please"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), env) {
		t.Errorf("%s=yes please: err = %v, want a refusal naming it", env, err)
	}
}

// come from the flags or the environment, and must be positive.
func TestMaxConnsFlags(t *testing.T) {
	tests := []struct {
		name                string
		args                []string
		env                 map[string]string
		wantTotal, wantEach int
	}{
		{"defaults", nil, nil, connlimit.DefaultTotal(), connlimit.DefaultPerClient},
		{"flags", []string{"--max-conns", "300", "--max-conns-per-client", "20"}, nil, 300, 20},
		{"env", nil, map[string]string{"DOCKMAP_MAX_CONNS": "1000", "DOCKMAP_MAX_CONNS_PER_CLIENT": "64"}, 1000, 64},
		{"flag over env", []string{"--max-conns", "50"}, map[string]string{"DOCKMAP_MAX_CONNS": "1000"}, 50, connlimit.DefaultPerClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(append([]string{"dockmap"}, tt.args...), envOf(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("parseFlags = %v", err)
			}
			if cfg.maxConns != tt.wantTotal || cfg.maxConnsPerClient != tt.wantEach {
				t.Errorf("caps = %d in all, %d per client; want %d, %d", cfg.maxConns, cfg.maxConnsPerClient, tt.wantTotal, tt.wantEach)
			}
		})
	}
	for _, bad := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--max-conns", "0"}, nil, "must be positive"},
		{[]string{"--max-conns-per-client", "-1"}, nil, "must be positive"},
		{nil, map[string]string{"DOCKMAP_MAX_CONNS": "many"}, "DOCKMAP_MAX_CONNS"},
		{nil, map[string]string{"DOCKMAP_MAX_CONNS_PER_CLIENT": "0"}, "DOCKMAP_MAX_CONNS_PER_CLIENT"},
	} {
		if _, err := parseFlags(append([]string{"dockmap"}, bad.args...), envOf(bad.env), io.Discard); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("parseFlags(%q, %v) = %v, want an error about %s", bad.args, bad.env, err, bad.want)
		}
	}
}

// TestTimelineMaxFlag: the recording's budget defaults to
// timeline.DefaultMax, takes a size with a unit, and refuses what is not
// a size or is too small to hold a keyframe.
func TestTimelineMaxFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want int
	}{
		{nil, nil, timeline.DefaultMax},
		{[]string{"--timeline-max", "128MiB"}, nil, 128 << 20},
		{[]string{"--timeline-max", "2GB"}, nil, 2 << 30},
		{[]string{"--timeline-max", "2097152"}, nil, 2 << 20},
		{nil, map[string]string{"DOCKMAP_TIMELINE_MAX": "16MiB"}, 16 << 20},
	} {
		cfg, err := parseFlags(append([]string{"dockmap"}, tc.args...), envOf(tc.env), io.Discard)
		if err != nil {
			t.Fatalf("parseFlags(%q, %v) = %v", tc.args, tc.env, err)
		}
		if cfg.timelineMax != tc.want {
			t.Errorf("parseFlags(%q, %v): timelineMax = %d, want %d", tc.args, tc.env, cfg.timelineMax, tc.want)
		}
	}
	for _, bad := range []string{"lots", "64 parsecs", "-1", "0", "100KiB", "99999999999GiB", "MiB"} {
		if _, err := parseFlags([]string{"dockmap", "--timeline-max", bad}, envOf(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--timeline-max") {
			t.Errorf("--timeline-max %q: err = %v, want a refusal naming the flag", bad, err)
		}
	}
}

// TestReplayFlag: --replay reads the recording before anything listens; a
// file that is missing, not a recording, of another format version or
// garbled half-way stops the start with the file's name and the line.
func TestReplayFlag(t *testing.T) {
	dir := t.TempDir()
	rec := timeline.New()
	rec.Keyframe(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), topology.Snapshot{Engine: topology.EngineState{Connected: true}})
	if err := rec.Record(time.Date(2026, 12, 7, 9, 0, 1, 0, time.UTC), protocol.TypeEvent, protocol.Encode(&protocol.Event{})); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rec.Export(&buf, true); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.jsonl.gz")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("good.jsonl.gz", buf.String())
	cfg, err := parseFlags([]string{"dockmap", "--replay", good}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatalf("--replay %s: %v", good, err)
	}
	if cfg.replay == nil || cfg.replay.Summary(true, time.Time{}, time.Time{}, 0).Count != 1 {
		t.Fatalf("--replay %s: recording %v, want the file's one event", good, cfg.replay)
	}
	header := `{"format":"dockmap-timeline","version":1}` + "\n"
	for _, tc := range []struct {
		name, file, want string
	}{
		{"missing", filepath.Join(dir, "nope.jsonl.gz"), "no such file"},
		{"not a recording", write("notes.txt", "dear diary\n"), "line 1: not a dockmap timeline"},
		{"newer version", write("v9.jsonl", `{"format":"dockmap-timeline","version":9}`+"\n"), "line 1: format version 9"},
		{"garbled", write("garbled.jsonl", header+`{"t":"2026-12-07T09:00:00Z","type":"snapshot","frame":{"seq":0,"nodes":[],"edges":[]}}`+"\n"+`{"t":"2026-`+"\n"), "line 3:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags([]string{"dockmap", "--replay", tc.file}, envOf(nil), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--replay") {
				t.Errorf("--replay %s: err = %v, want one naming the flag, the file and %q", tc.file, err, tc.want)
			}
		})
	}
}
