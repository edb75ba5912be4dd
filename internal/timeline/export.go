package timeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/dockmap/dockmap/internal/protocol"
)

// Format and Version name the file format: gzip'd JSON lines, a header
// line, then one line per entry, oldest first, the first a keyframe.
const (
	Format  = "dockmap-timeline"
	Version = 1
)

// Header is the first line of an exported recording.
type Header struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Dropped int       `json:"dropped"`
	Gaps    int       `json:"gaps"`
}

// line is one entry of an exported recording.
type line struct {
	T     time.Time       `json:"t"`
	Type  string          `json:"type"`
	Text  string          `json:"text,omitempty"`
	Frame json.RawMessage `json:"frame"`
}

// maxLine bounds one line of a file read back: a keyframe of a very big
// engine is a few MB.
const maxLine = 64 << 20

// Export writes the recording to w, gzip'd, audit frames left out unless
// operator.
func (r *Recorder) Export(w io.Writer, operator bool) error {
	entries := r.Entries(operator)
	r.mu.Lock()
	h := Header{Format: Format, Version: Version, Dropped: r.dropped, Gaps: r.gaps}
	r.mu.Unlock()
	if len(entries) > 0 {
		h.Start, h.End = entries[0].T, entries[len(entries)-1].T
	}
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriter(zw)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	for _, e := range entries {
		if err := enc.Encode(line{T: e.T, Type: e.Type, Text: e.Text, Frame: e.Data}); err != nil {
			return fmt.Errorf("write entry: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return zw.Close()
}

// LineError is why a recording could not be read: what is wrong and on
// which line (1 is the header).
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Import reads an exported recording (gzip'd or plain JSON lines) into a
// new Recorder made with opts; its keyframes are the file's own. Every
// frame is replayed as it is read, so a file that reads has a map at
// every moment. Errors are *LineError.
func Import(rd io.Reader, opts ...Option) (*Recorder, error) {
	br := bufio.NewReader(rd)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &LineError{1, fmt.Errorf("gzip: %w", err)}
		}
		br = bufio.NewReader(zr)
	}
	r := New(append(opts, WithKeyframes(0, 0))...)
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	var h Header
	for sc.Scan() {
		n++
		text := bytes.TrimSpace(sc.Bytes())
		if n == 1 {
			if err := readHeader(text, &h); err != nil {
				return nil, &LineError{n, err}
			}
			continue
		}
		if len(text) == 0 {
			continue
		}
		var l line
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, &LineError{n, fmt.Errorf("not an entry: %w", err)}
		}
		if l.T.IsZero() || len(l.Frame) == 0 {
			return nil, &LineError{n, errors.New("an entry needs t, type and frame")}
		}
		if n == 2 && l.Type != protocol.TypeSnapshot {
			return nil, &LineError{n, fmt.Errorf("the recording starts with a %s frame, want a snapshot", l.Type)}
		}
		if last := r.lastTime(); !last.IsZero() && l.T.Before(last) {
			return nil, &LineError{n, fmt.Errorf("time %s is before the line above (%s)", l.T.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))}
		}
		// The frame is kept: a copy, since the scanner reuses its buffer.
		if err := r.Record(l.T, l.Type, bytes.Clone(l.Frame)); err != nil {
			return nil, &LineError{n, err}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &LineError{n + 1, fmt.Errorf("read: %w", err)}
	}
	if n == 0 {
		return nil, &LineError{1, errors.New("empty file, want a dockmap timeline")}
	}
	if n == 1 {
		return nil, &LineError{2, errors.New("no entries after the header")}
	}
	r.mu.Lock()
	r.dropped += h.Dropped
	r.gaps = h.Gaps
	r.mu.Unlock()
	return r, nil
}

func readHeader(text []byte, h *Header) error {
	if err := json.Unmarshal(text, h); err != nil || h.Format != Format {
		return fmt.Errorf("not a dockmap timeline (want a header {\"format\":%q,...})", Format)
	}
	if h.Version != Version {
		return fmt.Errorf("format version %d, this dockmap reads version %d", h.Version, Version)
	}
	return nil
}

// ReadFile imports the recording in the named file; its errors name the
// file and the line.
func ReadFile(path string, opts ...Option) (*Recorder, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	r, err := Import(f, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func (r *Recorder) lastTime() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.entries); n > 0 {
		return r.entries[n-1].T
	}
	return time.Time{}
}
