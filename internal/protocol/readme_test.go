package protocol_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// frameOf is an empty frame of each type, to decode an example into.
var frameOf = map[string]func() any{
	protocol.TypeSnapshot: func() any { return &protocol.Snapshot{} },
	protocol.TypeDelta:    func() any { return &protocol.Delta{} },
	protocol.TypeEvent:    func() any { return &protocol.Event{} },
	protocol.TypeEngine:   func() any { return &protocol.Engine{} },
	protocol.TypeEngines:  func() any { return &protocol.Engines{} },
	protocol.TypeProbe:    func() any { return &protocol.Probe{} },
	protocol.TypeJob:      func() any { return &protocol.Job{} },
	protocol.TypeStep:     func() any { return &protocol.Step{} },
	protocol.TypeShare:    func() any { return &protocol.Share{} },
	protocol.TypeAudit:    func() any { return &protocol.Audit{} },
	protocol.TypeWatchers: func() any { return &protocol.Watchers{} },
	protocol.TypeLesson:   func() any { return &protocol.Lesson{} },
}

var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)```")

// TestReadmeDocumentsEveryFrame: the README's live protocol section has an
// example of every frame type, in the order of protocol.Types, and each
// example decodes into its frame with no field the frame does not have.
func TestReadmeDocumentsEveryFrame(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Live protocol")
	if !ok {
		t.Fatal("README has no \"### Live protocol\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var types []string
	for _, m := range jsonBlock.FindAllStringSubmatch(section, -1) {
		var head struct{ Type string }
		if err := json.Unmarshal([]byte(m[1]), &head); err != nil {
			t.Errorf("README example is not JSON: %v\n%s", err, m[1])
			continue
		}
		newFrame, ok := frameOf[head.Type]
		if !ok {
			t.Errorf("README example of an unknown frame type %q", head.Type)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(m[1])))
		dec.DisallowUnknownFields()
		if err := dec.Decode(newFrame()); err != nil {
			t.Errorf("README example of %s does not match the frame: %v", head.Type, err)
		}
		types = append(types, head.Type)
	}
	if !slices.Equal(types, protocol.Types) {
		t.Errorf("README examples are of %v, want one of each of %v, in that order", types, protocol.Types)
	}
	for _, typ := range protocol.Types {
		if _, ok := frameOf[typ]; !ok {
			t.Errorf("frame type %s has no decoder in this test", typ)
		}
	}
}

// TestEncodeStampsTheType: a frame is sent with its own type whatever its
// Type field held.
func TestEncodeStampsTheType(t *testing.T) {
	m := protocol.Message(&protocol.Step{Type: "wrong", Job: "j1"})
	var got struct{ Type, Job string }
	if err := json.Unmarshal(m.Data, &got); err != nil {
		t.Fatal(err)
	}
	if m.Type != protocol.TypeStep || got.Type != protocol.TypeStep || got.Job != "j1" {
		t.Errorf("Message = %s %s, want a step frame", m.Type, m.Data)
	}
}

// TestDeltaCarriesItsSeq: a connection skips the deltas its snapshot holds
// by the message's seq.
func TestDeltaCarriesItsSeq(t *testing.T) {
	if m := protocol.Message(&protocol.Delta{Delta: topology.Delta{Seq: 7}}); m.Seq != 7 || m.Type != protocol.TypeDelta {
		t.Errorf("Message(delta 7) = %s seq %d", m.Type, m.Seq)
	}
	if m := protocol.Message(&protocol.Event{}); m.Seq != 0 {
		t.Errorf("an event carries seq %d, want 0 (outside the graph's seqs)", m.Seq)
	}
}
