// Package lesson reads workshop lessons: files of steps, each with text, a
// hint and a check that the live map (and the latest probe results) can
// answer. Lessons are data, so instructors write their own (--lessons DIR)
// beside the three built in: the tutorial's chapters.
//
// The page and the API evaluate a lesson for one participant, whose
// container and network names carry their prefix ("p1-web"), so that
// several participants can do one lesson on one engine at once. A
// Tracker finds the participants on the map (Participants), keeps their
// ticks and says whose steps changed, for the live page and the
// instructor's progress table.
package lesson

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// MaxFileSize bounds a lesson file: a lesson is a page of text, and a
// huge file would cost every evaluation.
const MaxFileSize = 256 << 10

// Lesson is one lesson: an ordered list of steps.
type Lesson struct {
	ID      string `yaml:"id" json:"id"`
	Title   string `yaml:"title" json:"title"`
	Summary string `yaml:"summary" json:"summary,omitempty"`
	Steps   []Step `yaml:"steps" json:"steps"`
	// Source is the file the lesson came from ("builtin/links.yaml").
	Source string `yaml:"-" json:"source"`
}

// Step is one step of a lesson.
type Step struct {
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	Text  string `yaml:"text" json:"text,omitempty"`
	Hint  string `yaml:"hint" json:"hint,omitempty"`
	Check Check  `yaml:"check" json:"check"`
	// Needs names earlier steps that must be done before this one counts.
	Needs []string `yaml:"needs" json:"needs,omitempty"`
}

// Check is what makes a step done. Kind says which fields it uses.
type Check struct {
	Kind      string `yaml:"kind" json:"kind"`
	Container string `yaml:"container" json:"container,omitempty"`
	From      string `yaml:"from" json:"from,omitempty"`
	To        string `yaml:"to" json:"to,omitempty"`
	// A and B are the two containers of a sharing check.
	A       string `yaml:"a" json:"a,omitempty"`
	B       string `yaml:"b" json:"b,omitempty"`
	Network string `yaml:"network" json:"network,omitempty"`
	// By is how a probe reaches its target: "name" or "ip".
	By string `yaml:"by" json:"by,omitempty"`
	// Expect is what a probe should find: "ok" or "fail".
	Expect string `yaml:"expect" json:"expect,omitempty"`
}

// Check kinds.
const (
	// KindRunning: Container is running.
	KindRunning = "running"
	// KindLink: From has a link to To (a legacy link or an alias on a
	// shared network).
	KindLink = "link"
	// KindNetwork: A and B share a network (Network, when set).
	KindNetwork = "network"
	// KindVolume: A and B share a volume (or one took the other's).
	KindVolume = "volume"
	// KindProbe: the latest probe From → To By gave Expect.
	KindProbe = "probe"
)

// kinds lists each check kind with the fields it needs.
var kinds = map[string][]string{
	KindRunning: {"container"},
	KindLink:    {"from", "to"},
	KindNetwork: {"a", "b"},
	KindVolume:  {"a", "b"},
	KindProbe:   {"from", "to", "by", "expect"},
}

// Kinds are the check kinds a lesson file may use, sorted.
func Kinds() []string {
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// field is the value of a check's field by its YAML name.
func (c Check) field(name string) string {
	switch name {
	case "container":
		return c.Container
	case "from":
		return c.From
	case "to":
		return c.To
	case "a":
		return c.A
	case "b":
		return c.B
	case "by":
		return c.By
	case "expect":
		return c.Expect
	}
	return ""
}

// idPattern is what lesson and step IDs look like: they appear in URLs.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Error is a problem in a lesson file, with where it is.
type Error struct {
	File string
	Line int // 0 when the problem is the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Parse reads one lesson file; name is how errors name it.
func Parse(name string, data []byte) (Lesson, error) {
	if len(data) > MaxFileSize {
		return Lesson{}, &Error{File: name, Msg: fmt.Sprintf("%d bytes: a lesson file holds at most %d", len(data), MaxFileSize)}
	}
	var l Lesson
	if err := yaml.UnmarshalWithOptions(data, &l, yaml.Strict()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return Lesson{}, &Error{File: name, Line: ye.GetToken().Position.Line, Msg: ye.GetMessage()}
		}
		return Lesson{}, &Error{File: name, Msg: err.Error()}
	}
	l.Source = name
	if err := validate(name, data, &l); err != nil {
		return Lesson{}, err
	}
	return l, nil
}

// validate checks what YAML cannot: IDs, check kinds and their fields,
// and that needs name earlier steps. Errors point at the line.
func validate(name string, data []byte, l *Lesson) error {
	at := func(path string) int { return lineOf(data, path) }
	bad := func(path, format string, args ...any) error {
		return &Error{File: name, Line: at(path), Msg: fmt.Sprintf(format, args...)}
	}
	if !idPattern.MatchString(l.ID) {
		return bad("$.id", "lesson id %q: lower-case letters, digits and dashes, up to 63", l.ID)
	}
	if strings.TrimSpace(l.Title) == "" {
		return bad("$", "lesson %s has no title", l.ID)
	}
	if len(l.Steps) == 0 {
		return bad("$", "lesson %s has no steps", l.ID)
	}
	seen := map[string]bool{}
	for i, s := range l.Steps {
		p := fmt.Sprintf("$.steps[%d]", i)
		if !idPattern.MatchString(s.ID) {
			return bad(p, "step %d: id %q: lower-case letters, digits and dashes, up to 63", i+1, s.ID)
		}
		if seen[s.ID] {
			return bad(p+".id", "step id %q is used twice", s.ID)
		}
		if strings.TrimSpace(s.Title) == "" {
			return bad(p, "step %s has no title", s.ID)
		}
		for j, n := range s.Needs {
			if !seen[n] {
				what := "no such step"
				if slices.ContainsFunc(l.Steps, func(o Step) bool { return o.ID == n }) {
					what = "it comes later: a step can need only steps before it"
				}
				return bad(fmt.Sprintf("%s.needs[%d]", p, j), "step %s needs %q: %s", s.ID, n, what)
			}
		}
		seen[s.ID] = true
		c := s.Check
		fields, ok := kinds[c.Kind]
		if !ok {
			return bad(p+".check", "step %s: unknown check kind %q (known: %s)", s.ID, c.Kind, strings.Join(Kinds(), ", "))
		}
		for _, f := range fields {
			if strings.TrimSpace(c.field(f)) == "" {
				return bad(p+".check", "step %s: a %s check needs %q", s.ID, c.Kind, f)
			}
		}
		if c.Kind == KindProbe {
			if c.By != "name" && c.By != "ip" {
				return bad(p+".check.by", "step %s: by is %q: name or ip", s.ID, c.By)
			}
			if c.Expect != "ok" && c.Expect != "fail" {
				return bad(p+".check.expect", "step %s: expect is %q: ok or fail", s.ID, c.Expect)
			}
		}
	}
	return nil
}

// lineOf is the line of the YAML node at path, or 0.
func lineOf(data []byte, path string) int {
	p, err := yaml.PathString(path)
	if err != nil {
		return 0
	}
	n, err := p.ReadNode(bytes.NewReader(data))
	if err != nil || n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin are the tutorial's three chapters: links, bridges, sharing.
func Builtin() []Lesson {
	ls, errs := loadFS(builtinFS, "builtin")
	if len(errs) > 0 {
		// The files are part of the binary and tested: a bad one is a
		// programmer error.
		panic(fmt.Sprintf("lesson: built-in lessons: %v", errors.Join(errs...)))
	}
	return ls
}

// LoadDir reads every *.yaml and *.yml file of dir. A bad file is
// reported and left out; the others still load. An ID already taken (by
// a built-in lesson, or another file) is an error of the later file.
func LoadDir(dir string, taken ...Lesson) ([]Lesson, []error) {
	return loadFS(os.DirFS(dir), ".", taken...)
}

func loadFS(fsys fs.FS, dir string, taken ...Lesson) ([]Lesson, []error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, []error{err}
	}
	ids := map[string]string{}
	for _, l := range taken {
		ids[l.ID] = l.Source
	}
	var out []Lesson
	var errs []error
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		name := e.Name()
		if dir != "." {
			name = dir + "/" + name
		}
		info, err := e.Info()
		if err == nil && info.Size() > MaxFileSize {
			errs = append(errs, &Error{File: name, Msg: fmt.Sprintf("%d bytes: a lesson file holds at most %d", info.Size(), MaxFileSize)})
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, &Error{File: name, Msg: err.Error()})
			continue
		}
		l, err := Parse(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := ids[l.ID]; dup {
			errs = append(errs, &Error{File: name, Line: lineOf(data, "$.id"), Msg: fmt.Sprintf("lesson id %q is taken by %s", l.ID, prev)})
			continue
		}
		ids[l.ID] = name
		out = append(out, l)
	}
	return out, errs
}
