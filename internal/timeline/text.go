package timeline

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// maxPhrases is how many changes a delta's line names before "+N more".
const maxPhrases = 3

// maxText caps a mark's line: it is for a tooltip, and a frame's own words
// (an engine error, a step's detail) can be long.
const maxText = 160

func snapshotText(s topology.Snapshot) string {
	n := 0
	for _, node := range s.Nodes {
		if node.Kind == topology.KindContainer {
			n++
		}
	}
	return fmt.Sprintf("map of %d containers", n)
}

// deltaText says what d changes in g, in words: "web started; db removed".
func deltaText(g topology.Graph, d topology.Delta) string {
	var phrases []string
	label := func(id topology.NodeID) string {
		if n, ok := g.Node(id); ok {
			return n.Label
		}
		for _, n := range d.AddedNodes {
			if n.ID == id {
				return n.Label
			}
		}
		return string(id)
	}
	for _, n := range d.AddedNodes {
		phrases = append(phrases, string(n.Kind)+" "+n.Label+" created")
	}
	for _, id := range d.RemovedNodes {
		kind := "node"
		if n, ok := g.Node(id); ok {
			kind = string(n.Kind)
		}
		phrases = append(phrases, kind+" "+label(id)+" removed")
	}
	for _, n := range d.ChangedNodes {
		switch old, ok := g.Node(n.ID); {
		case n.Container != nil && ok && old.Container != nil && old.Container.State != n.Container.State:
			phrases = append(phrases, n.Label+" "+n.Container.State)
		default:
			phrases = append(phrases, string(n.Kind)+" "+n.Label+" changed")
		}
	}
	edge := func(e topology.Edge, verb string) string {
		switch e.Kind {
		case topology.EdgeMember:
			if verb == "added" {
				return label(e.From) + " joined " + label(e.To)
			}
			return label(e.From) + " left " + label(e.To)
		}
		return string(e.Kind) + " " + label(e.From) + " → " + label(e.To) + " " + verb
	}
	for _, e := range d.AddedEdges {
		phrases = append(phrases, edge(e, "added"))
	}
	for _, e := range d.ChangedEdges {
		phrases = append(phrases, edge(e, "changed"))
	}
	for _, id := range d.RemovedEdges {
		if e, ok := g.Edge(id); ok {
			phrases = append(phrases, edge(e, "removed"))
		} else {
			phrases = append(phrases, "edge removed")
		}
	}
	text := strings.Join(phrases[:min(len(phrases), maxPhrases)], "; ")
	if len(phrases) > maxPhrases {
		text += fmt.Sprintf(" (+%d more)", len(phrases)-maxPhrases)
	}
	return clip(text)
}

func engineText(e topology.EngineState) string {
	if e.Connected {
		return clip("engine connected " + e.Version)
	}
	return clip("engine unreachable: " + e.LastError)
}

// frameText says what a frame other than a snapshot, delta or engine frame
// says. A type this dockmap does not know (one added later) still gets a
// line: its own "text" or "title" when it has one, else its type.
func frameText(typ string, data []byte) string {
	switch typ {
	case protocol.TypeEvent:
		var f protocol.Event
		if json.Unmarshal(data, &f) == nil {
			name := f.Event.Name
			if name == "" {
				name = shortID(f.Event.ID)
			}
			return clip(f.Event.Type + " " + name + " " + f.Event.Action)
		}
	case protocol.TypeProbe:
		var f protocol.Probe
		if json.Unmarshal(data, &f) == nil {
			res := "ok"
			if !f.Result.OK {
				res = "failed: " + f.Result.Failure
			}
			return clip(fmt.Sprintf("probe %s → %s by %s: %s", f.Result.From, f.Result.To, f.Result.By, res))
		}
	case protocol.TypeJob:
		var f protocol.Job
		if json.Unmarshal(data, &f) == nil {
			return clip(f.Job.Title + ": " + f.Job.State)
		}
	case protocol.TypeStep:
		var f protocol.Step
		if json.Unmarshal(data, &f) == nil {
			text := f.Text
			if text == "" {
				text = f.ID
			}
			return clip(text + ": " + f.State)
		}
	case protocol.TypeShare:
		var f protocol.Share
		if json.Unmarshal(data, &f) == nil {
			return clip("share test of " + f.Volume + ": " + f.Result.Name + " " + f.Result.State)
		}
	case protocol.TypeEngines:
		var f protocol.Engines
		if json.Unmarshal(data, &f) == nil {
			up, down := 0, []string{}
			for _, e := range f.Engines {
				if e.Connected {
					up++
				} else {
					down = append(down, e.Name)
				}
			}
			text := fmt.Sprintf("engines %d/%d connected", up, len(f.Engines))
			if len(down) > 0 {
				text += ", " + strings.Join(down, ", ") + " unreachable"
			}
			return clip(text)
		}
	case protocol.TypeAudit:
		var f protocol.Audit
		if json.Unmarshal(data, &f) == nil {
			return clip(fmt.Sprintf("%s %s %s: %d", f.Entry.Role, f.Entry.Method, f.Entry.Route, f.Entry.Status))
		}
	}
	return clip(typ + " " + ownWords(data))
}

// ownWords finds a line in a frame of a type it does not know: a string
// field named text, title, summary or message, at the top or one level
// down.
func ownWords(data []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return ""
	}
	find := func(m map[string]json.RawMessage) string {
		for _, k := range []string{"text", "title", "summary", "message"} {
			var s string
			if json.Unmarshal(m[k], &s) == nil && s != "" {
				return s
			}
		}
		return ""
	}
	if s := find(top); s != "" {
		return s
	}
	// In key order, so that a file read again gets the same lines.
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if k == "type" {
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(top[k], &m) == nil {
			if s := find(m); s != "" {
				return s
			}
		}
	}
	return ""
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// clip cuts s to maxText bytes, on a rune boundary.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
