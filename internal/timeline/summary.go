package timeline

import (
	"time"

	"github.com/dockmap/dockmap/internal/protocol"
)

// DefaultMarks is how many marks Summary gives at most by default.
const DefaultMarks = 5000

// Mark is one recorded frame as the scrubber shows it.
type Mark struct {
	T    time.Time `json:"t"`
	Type string    `json:"type"`
	Text string    `json:"text"`
}

// Summary is the body of GET /api/timeline.
type Summary struct {
	// Start and End are the times of the first and last entries held
	// (zero while nothing is).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Count is how many frames are held, keyframes not counted.
	Count int `json:"count"`
	// Dropped is how many frames the byte budget pushed out, oldest first.
	Dropped int `json:"dropped"`
	// Gaps is how many times the recorder fell behind and resumed from a
	// fresh snapshot: frames between were not recorded.
	Gaps int `json:"gaps"`
	// Seq is the graph's seq after the last entry.
	Seq uint64 `json:"seq"`
	// Bytes is what the recording holds against its budget, Max.
	Bytes int `json:"bytes"`
	Max   int `json:"max"`
	// Marks are the frames between from and to, the latest limit of them,
	// oldest first; Truncated says older ones in the range were left out.
	Marks     []Mark `json:"marks"`
	Truncated bool   `json:"truncated"`
}

// Summary describes the recording and lists its frames from from to to (a
// zero time leaves that end open), the latest limit of them (DefaultMarks
// when limit ≤ 0). Audit frames are left out unless operator.
func (r *Recorder) Summary(operator bool, from, to time.Time, limit int) Summary {
	if limit <= 0 {
		limit = DefaultMarks
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Dropped: r.dropped, Gaps: r.gaps, Seq: r.cur.Seq, Bytes: r.bytes + r.curBytes, Max: r.max, Marks: []Mark{}}
	if n := len(r.entries); n > 0 {
		s.Start, s.End = r.entries[0].T, r.entries[n-1].T
	}
	for _, e := range r.entries {
		if e.keyframe() || !operator && protocol.OperatorOnly(e.Type) {
			continue
		}
		s.Count++
		if !from.IsZero() && e.T.Before(from) || !to.IsZero() && e.T.After(to) {
			continue
		}
		s.Marks = append(s.Marks, Mark{T: e.T, Type: e.Type, Text: e.Text})
	}
	if len(s.Marks) > limit {
		s.Marks = s.Marks[len(s.Marks)-limit:]
		s.Truncated = true
	}
	return s
}
