package timeline_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/timeline"
)

// TestExportImportRoundTrip: a recording exported and read back is the
// same recording, with the same map at every moment; a viewer's export
// leaves the audit frames out.
func TestExportImportRoundTrip(t *testing.T) {
	s := makeSession(30, 50)
	r := timeline.New(timeline.WithKeyframes(8, time.Hour))
	record(t, r, s)
	var buf bytes.Buffer
	if err := r.Export(&buf, true); err != nil {
		t.Fatal(err)
	}
	back, err := timeline.Import(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if diff := cmp.Diff(r.Entries(true), back.Entries(true)); diff != "" {
		t.Errorf("entries read back (-exported +read):\n%s", diff)
	}
	if diff := cmp.Diff(r.Summary(true, time.Time{}, time.Time{}, 0), back.Summary(true, time.Time{}, time.Time{}, 0)); diff != "" {
		t.Errorf("summary read back (-exported +read):\n%s", diff)
	}
	checkAt(t, back, s, s.start)

	buf.Reset()
	if err := r.Export(&buf, false); err != nil {
		t.Fatal(err)
	}
	viewer, err := timeline.Import(&buf)
	if err != nil {
		t.Fatalf("Import a viewer's export: %v", err)
	}
	for _, e := range viewer.Entries(true) {
		if e.Type == protocol.TypeAudit {
			t.Fatalf("a viewer's export holds an audit frame: %s", e.Data)
		}
	}
	if got, want := len(viewer.Entries(true)), len(r.Entries(false)); got != want {
		t.Errorf("a viewer's export holds %d entries, want %d", got, want)
	}
}

// TestImportRefusesBadFiles: a file that is not a recording, or one this
// dockmap cannot replay, is refused with the line at fault.
func TestImportRefusesBadFiles(t *testing.T) {
	s := makeSession(5, 3)
	r := timeline.New()
	record(t, r, s)
	var buf bytes.Buffer
	if err := r.Export(&buf, true); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if _, err := plain.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(plain.String(), "\n"), "\n")
	with := func(i int, l string) string {
		c := append([]string(nil), lines...)
		c[i] = l + "\n"
		return strings.Join(c, "")
	}
	if _, err := timeline.Import(strings.NewReader(plain.String())); err != nil {
		t.Fatalf("the plain file: %v", err)
	}
	for _, tc := range []struct {
		name, file string
		line       int
		want       string
	}{
		{"empty", "", 1, "empty"},
		{"not ours", "hello\n", 1, "not a dockmap timeline"},
		{"broken gzip", "\x1f\x8bxxxxxxxxxxxxxxxxxxxxxxx", 1, "gzip"},
		{"newer version", with(0, `{"format":"dockmap-timeline","version":2}`), 1, "version 2"},
		{"header only", lines[0], 2, "no entries"},
		{"starts with a delta", lines[0] + lines[2], 2, "want a snapshot"},
		{"garbled", with(3, `{"t":"2026-12-07T09:00:01Z","type":"delta","frame":{"seq":`), 4, "not an entry"},
		{"bad delta", with(2, `{"t":"2026-12-07T09:00:01Z","type":"delta","frame":{"seq":"one"}}`), 3, "delta"},
		{"unknown field", with(2, `{"t":"2026-12-07T09:00:01Z","type":"probe","frame":{},"extra":1}`), 3, "unknown field"},
		{"no frame", with(2, `{"t":"2026-12-07T09:00:01Z","type":"probe"}`), 3, "needs"},
		{"time goes back", with(2, `{"t":"2026-12-07T08:00:00Z","type":"probe","frame":{}}`), 3, "before the line above"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := timeline.Import(strings.NewReader(tc.file))
			var le *timeline.LineError
			if !errors.As(err, &le) || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Import = %v, want an error on line %d about %q", err, tc.line, tc.want)
			}
		})
	}
}
