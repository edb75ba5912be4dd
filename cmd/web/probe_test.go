package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/probe"
)

// runProbeLines runs `dockmap probe args...` through run, as main does,
// and decodes its output.
func runProbeLines(t *testing.T, ctx context.Context, args ...string) []probe.Line {
	t.Helper()
	var out bytes.Buffer
	if err := run(ctx, append([]string{"dockmap", "probe"}, args...), envOf(nil), &out); err != nil {
		t.Fatalf("dockmap probe %v: %v", args, err)
	}
	var lines []probe.Line
	dec := json.NewDecoder(&out)
	for dec.More() {
		var l probe.Line
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("output is not JSON lines: %v\n%s", err, out.String())
		}
		lines = append(lines, l)
	}
	return lines
}

// TestProbeCommand runs the probe subcommand in this process's own
// network namespace against loopback targets.
func TestProbeCommand(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	open := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := strconv.Itoa(closedLn.Addr().(*net.TCPAddr).Port)
	closedLn.Close()

	tests := []struct {
		name string
		args []string
		want []probe.Line // Detail is checked as a substring, RTTms for > 0 when OK
	}{
		{
			name: "ICMP by address and by name from /etc/hosts",
			args: []string{"127.0.0.1", "localhost"},
			want: []probe.Line{
				{Target: "127.0.0.1", OK: true, Resolved: "127.0.0.1", Detail: "reply from 127.0.0.1"},
				{Target: "localhost", OK: true, Resolved: "127.0.0.1", Detail: "reply from 127.0.0.1"},
			},
		},
		{
			name: "name not resolved",
			args: []string{"--timeout", "2s", "no-such-host.invalid"},
			want: []probe.Line{{Target: "no-such-host.invalid", Failure: probe.FailName, Detail: "no-such-host.invalid"}},
		},
		{
			name: "TCP by address and by name",
			args: []string{"--port", open, "127.0.0.1", "localhost"},
			want: []probe.Line{
				{Target: "127.0.0.1", OK: true, Resolved: "127.0.0.1", Detail: "connected to 127.0.0.1:" + open},
				{Target: "localhost", OK: true, Resolved: "127.0.0.1", Detail: "connected to 127.0.0.1:" + open},
			},
		},
		{
			name: "TCP refused",
			args: []string{"--port=" + closed, "127.0.0.1"},
			want: []probe.Line{{Target: "127.0.0.1", Resolved: "127.0.0.1", Failure: probe.FailRefused, Detail: "connection refused"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runProbeLines(t, t.Context(), tt.args...)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Target != w.Target || g.OK != w.OK || g.Failure != w.Failure || g.Resolved != w.Resolved {
					t.Errorf("line %d = %+v, want %+v", i, g, w)
				}
				if !strings.Contains(g.Detail, w.Detail) {
					t.Errorf("line %d Detail = %q, want it to contain %q", i, g.Detail, w.Detail)
				}
				if g.OK && g.RTTms <= 0 {
					t.Errorf("line %d RTTms = %v, want > 0", i, g.RTTms)
				}
			}
		})
	}
}

func TestProbeCommandUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{},
		{"--port", "70000", "127.0.0.1"},
		{"--timeout", "0s", "127.0.0.1"},
		{"--nope", "127.0.0.1"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"dockmap", "probe"}, args...), envOf(nil), &out)
		if err == nil {
			t.Errorf("dockmap probe %q succeeded, want a usage error", args)
		}
		if out.Len() != 0 {
			t.Errorf("dockmap probe %q printed %q, want nothing on stdout (it is parsed)", args, out.String())
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"dockmap", "probe", "-h"}, envOf(nil), &out); err != nil {
		t.Errorf("dockmap probe -h: %v", err)
	}
	if s := out.String(); !strings.Contains(s, "--port") || strings.Contains(s, "hold") {
		t.Errorf("usage = %q, want --port and no hidden --hold", s)
	}
}

func TestProbeCommandHold(t *testing.T) {
	t.Parallel()
	start := time.Now()
	if err := run(t.Context(), []string{"dockmap", "probe", "--hold=100ms"}, envOf(nil), &bytes.Buffer{}); err != nil {
		t.Fatalf("--hold=100ms: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("--hold=100ms returned after %v", d)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := run(ctx, []string{"dockmap", "probe", "--hold=1h"}, envOf(nil), &bytes.Buffer{}); err != nil {
		t.Fatalf("--hold=1h: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("--hold=1h returned %v after its context ended, want at once", d)
	}
}
