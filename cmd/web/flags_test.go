package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// envOf returns a getenv that knows only the given variables.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestRunRefusesNonLoopbackAddr: until dockmap has access control, a
// non-loopback listen address is refused unless the unsafe flag says the
// operator accepts it, and run says why before it touches the engine or
// binds anything (192.0.2.1 is TEST-NET-1, never a real host).
func TestRunRefusesNonLoopbackAddr(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"all IPv4", []string{"dockmap", "--addr", "0.0.0.0:8080"}, nil},
		{"LAN-like IPv4", []string{"dockmap", "--addr", "192.0.2.1:8080"}, nil},
		{"all IPv6", []string{"dockmap", "--addr", "[::]:8080"}, nil},
		{"empty host", []string{"dockmap", "--addr", ":8080"}, nil},
		{"host name", []string{"dockmap", "--addr", "dockmap.example:8080"}, nil},
		{"from env", []string{"dockmap"}, map[string]string{"DOCKMAP_ADDR": "0.0.0.0:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			// A run that wrongly accepted the address would serve until
			// ctx ends; ending it now makes that return nil, not hang.
			cancel()
			err := run(ctx, tt.args, envOf(tt.env), io.Discard)
			if err == nil {
				t.Fatalf("run(%q) = nil, want an error about access control", tt.args)
			}
			for _, want := range []string{"access control", "--" + unsafeExposeFlag} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("run(%q) = %q, want it to mention %q", tt.args, err, want)
				}
			}
		})
	}
}

// TestParseFlagsAddr covers the addresses that are accepted: loopback ones
// always, others only with the unsafe flag (what the container image does,
// see Dockerfile). parseFlags is tested directly because run would bind
// them.
func TestParseFlagsAddr(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantAddr    string
		wantUnsafe  bool
		wantAllowed []string // extra Host header names
	}{
		{"default", []string{"dockmap"}, nil, "127.0.0.1:8080", false, nil},
		{"IPv4 loopback", []string{"dockmap", "--addr", "127.0.0.1:9000"}, nil, "127.0.0.1:9000", false, nil},
		{"other IPv4 loopback", []string{"dockmap", "--addr", "127.0.0.2:0"}, nil, "127.0.0.2:0", false, nil},
		{"IPv6 loopback", []string{"dockmap", "--addr", "[::1]:8080"}, nil, "[::1]:8080", false, nil},
		{"localhost", []string{"dockmap", "--addr", "localhost:8080"}, nil, "localhost:8080", false, nil},
		{"loopback from env", []string{"dockmap"}, map[string]string{"DOCKMAP_ADDR": "[::1]:7000"}, "[::1]:7000", false, nil},
		{"all interfaces, unsafe", []string{"dockmap", "--addr", "0.0.0.0:8080", "--" + unsafeExposeFlag}, nil,
			"0.0.0.0:8080", true, nil},
		// The address itself becomes an accepted Host, or a browser
		// pointed at http://192.0.2.1:8080 would be refused as rebinding.
		{"LAN IP, unsafe", []string{"dockmap", "--addr", "192.0.2.1:8080", "--" + unsafeExposeFlag}, nil,
			"192.0.2.1:8080", true, []string{"192.0.2.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, envOf(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v, want no error", tt.args, err)
			}
			if cfg.addr != tt.wantAddr {
				t.Errorf("addr = %q, want %q", cfg.addr, tt.wantAddr)
			}
			if cfg.unsafeExpose != tt.wantUnsafe {
				t.Errorf("unsafeExpose = %v, want %v", cfg.unsafeExpose, tt.wantUnsafe)
			}
			if diff := cmp.Diff(tt.wantAllowed, cfg.allowedHosts); diff != "" {
				t.Errorf("allowedHosts mismatch (-want +got):\n%s", diff)
			}
		})
	}
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
