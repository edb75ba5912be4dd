package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/connlimit"
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
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"default", []string{"dockmap"}, nil, false},
		{"flag", []string{"dockmap", "--allow-dangerous-specs"}, nil, true},
		{"flag=false", []string{"dockmap", "--allow-dangerous-specs=false"}, map[string]string{"DOCKMAP_ALLOW_DANGEROUS_SPECS": "1"}, false},
		{"env 1", []string{"dockmap"}, map[string]string{"DOCKMAP_ALLOW_DANGEROUS_SPECS": "1"}, true},
		{"env 0", []string{"dockmap"}, map[string]string{"DOCKMAP_ALLOW_DANGEROUS_SPECS": "0"}, false},
		{"env empty", []string{"dockmap"}, map[string]string{"DOCKMAP_ALLOW_DANGEROUS_SPECS": ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, envOf(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if cfg.allowDangerous != tt.want {
				t.Errorf("allowDangerous = %v, want %v", cfg.allowDangerous, tt.want)
			}
		})
	}
	_, err := parseFlags([]string{"dockmap"}, envOf(map[string]string{"DOCKMAP_ALLOW_DANGEROUS_SPECS": "yes please"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DOCKMAP_ALLOW_DANGEROUS_SPECS") {
		t.Errorf("DOCKMAP_ALLOW_DANGEROUS_SPECS=yes please: err = %v, want a refusal naming it", err)
	}
}

// TestMaxConnsFlags: the connection caps default to connlimit's defaults,
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
