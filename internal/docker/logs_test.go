package docker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// readLogs reads id's logs without following.
func readLogs(t *testing.T, c *docker.Client, id string, o docker.LogOptions) []docker.LogLine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := c.ContainerLogs(ctx, id, o)
	if err != nil {
		t.Fatalf("ContainerLogs: %v", err)
	}
	defer s.Close()
	var lines []docker.LogLine
	if err := s.Read(func(l docker.LogLine) error { lines = append(lines, l); return nil }); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return lines
}

func texts(lines []docker.LogLine) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Stream+":"+l.Text)
	}
	return out
}

func TestLogsTellStreamsApart(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", "echo out 1; echo err 1 >&2; echo out 2; echo; printf 'no newline'"))
	want := []string{"stdout:out 1", "stderr:err 1", "stdout:out 2", "stdout:", "stdout:no newline"}
	var got []docker.LogLine
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		got = readLogs(t, c, id, docker.LogOptions{Tail: -1})
		return len(got) >= len(want), fmt.Sprint(texts(got))
	})
	// stdout and stderr are separate pipes: only each one's order is kept.
	gotTexts := texts(got)
	slices.Sort(gotTexts)
	slices.Sort(want)
	if !slices.Equal(gotTexts, want) {
		t.Errorf("lines = %q, want %q", gotTexts, want)
	}
	for _, l := range got {
		if l.Time.IsZero() || time.Since(l.Time) > time.Hour {
			t.Errorf("line %q has time %v, want the engine's timestamp", l.Text, l.Time)
		}
	}

	// Since keeps the line written at exactly that time: a reader that
	// resumes from its last line gets it again and loses nothing.
	last := got[len(got)-1]
	for _, l := range got {
		if l.Time.After(last.Time) {
			last = l
		}
	}
	again := readLogs(t, c, id, docker.LogOptions{Since: last.Time, Tail: -1})
	if !slices.ContainsFunc(again, func(l docker.LogLine) bool { return l == last }) {
		t.Errorf("since %v = %q, want it to hold %q", last.Time, texts(again), last.Text)
	}
	if tail := readLogs(t, c, id, docker.LogOptions{Tail: 1}); len(tail) != 1 {
		t.Errorf("tail 1 = %q, want one line", texts(tail))
	}
}

func TestLogsOfATTYContainer(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	id := dockertest.RunContainer(t, c, dockertest.Interactive(), dockertest.WithCmd("sh", "-c", "echo tty out; echo tty err >&2; exec sleep 3600"))
	want := []string{"stdout:tty out", "stdout:tty err"}
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		got := texts(readLogs(t, c, id, docker.LogOptions{Tail: -1}))
		return slices.Equal(got, want), fmt.Sprintf("lines %q, want %q", got, want)
	})
}

func TestLogsFollowEndsWithItsContext(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", "echo ready; exec sleep 3600"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := c.ContainerLogs(ctx, id, docker.LogOptions{Tail: -1, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan docker.LogLine, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Read(func(l docker.LogLine) error {
			select {
			case first <- l:
			default:
			}
			return nil
		})
	}()
	select {
	case l := <-first:
		if l.Text != "ready" {
			t.Errorf("first line = %q, want ready", l.Text)
		}
	case <-time.After(time.Minute):
		t.Fatal("no line while following")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Read still follows after its context ended")
	}
}

func TestLogsOfNoContainer(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	_, err := c.ContainerLogs(context.Background(), dockertest.UniqueName(t, "none"), docker.LogOptions{Tail: -1})
	if !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "10m", want: now.Add(-10 * time.Minute)},
		{in: "1h", want: now.Add(-time.Hour)},
		{in: "2026-12-07T14:00:00Z", want: now.Add(-time.Hour)},
		{in: "2026-12-07T14:00:00.5Z", want: now.Add(-time.Hour + 500*time.Millisecond)},
		{in: "1796655600", want: time.Unix(1796655600, 0).UTC()},
		{in: "1796655600.25", want: time.Unix(1796655600, 250000000).UTC()},
		{in: "0", want: time.Unix(0, 0).UTC()},
		{in: "-5", bad: true},
		{in: "-10m", bad: true},
		{in: "99999-01-01T00:00:00Z", bad: true},
		{in: "3155760000000", bad: true},
		{in: "99999999999999999999999", bad: true},
		{in: "9999999999h", bad: true},
		{in: "yesterday", bad: true},
		{in: "1.2.3", bad: true},
	}
	for _, tt := range tests {
		got, err := docker.ParseSince(tt.in, now)
		if tt.bad {
			if !errors.Is(err, topology.ErrInvalid) {
				t.Errorf("ParseSince(%q) = %v, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
