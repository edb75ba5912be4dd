package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"

	"github.com/dockmap/dockmap/internal/topology"
)

// dockmap's own helper containers (probe helpers, sidecars, leases) are
// plumbing: they are left out of the map and of the event feed. A label
// cannot say which containers those are, since anyone can set a label,
// even through an image's LABEL, and a user's container that hid from the
// map would be one nobody watches. So a container is a helper only when
//
//   - it runs this dockmap's helper image, recognised by content (its one
//     layer is the helper binary's layer; see imageIdentity). Only dockmap
//     makes that image, so a container someone runs from it by hand is a
//     helper too: it holds nothing but dockmap's binary; or
//   - this Client started it (RunHelper, StartHelper, StartLease). Its
//     name is reserved before the create and its ID recorded after, so a
//     list made while it is being created, and its create event, already
//     know it, whatever image it runs.
//
// HelperLabel stays on the helpers dockmap starts, for people (`docker ps
// --filter label=dockmap.helper`); dockmap never reads it.

// helperNamePrefix starts the name of every helper RunHelper and
// StartHelper make; a random suffix makes it unguessable.
const helperNamePrefix = "dockmap-helper-"

// helperForget is how long a removed helper stays in the record: the
// engine may deliver its last events after the removal has returned.
const helperForget = time.Minute

// maxHelperRecord bounds the record should nobody read the event stream
// (which forgets a helper at its destroy event).
const maxHelperRecord = 4096

// helperRecord is the set of helper containers a Client started.
type helperRecord struct {
	mu     sync.Mutex              // protects the fields below
	byID   map[string]*helperEntry // container ID → entry, once created
	byName map[string]*helperEntry // container name → entry, from before the create
	listed map[string]struct{}     // IDs the last ListInventory left out, whoever made them
}

// helperEntry is one helper container.
type helperEntry struct {
	id, name string
	gone     time.Time // when it was removed; zero while it exists
}

// reserve records a helper about to be created under name ("" makes one
// up) and returns its entry; the name to create it with is entry.name.
func (r *helperRecord) reserve(name string) *helperEntry {
	if name == "" {
		name = helperNamePrefix + randomHex(8)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName == nil {
		r.byID, r.byName = make(map[string]*helperEntry), make(map[string]*helperEntry)
	}
	r.pruneLocked(time.Now())
	e := &helperEntry{name: name}
	// A name taken by a live helper stays that helper's: this create will
	// fail with a conflict.
	if old := r.byName[name]; old == nil || !old.gone.IsZero() {
		r.byName[name] = e
	}
	return e
}

// created records the ID the engine gave the helper.
func (r *helperRecord) created(e *helperEntry, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.id = id
	r.byID[id] = e
}

// removed marks a helper as gone (or never created); it is forgotten
// helperForget later, or at its destroy event.
func (r *helperRecord) removed(e *helperEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.gone.IsZero() {
		e.gone = time.Now()
	}
}

// removedID is removed for a helper known by ID.
func (r *helperRecord) removedID(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.byID[id]; e != nil && e.gone.IsZero() {
		e.gone = time.Now()
	}
}

// destroyed forgets a helper the engine has destroyed: no event of it
// can follow.
func (r *helperRecord) destroyed(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.byID[id]; e != nil {
		delete(r.byID, id)
		if r.byName[e.name] == e {
			delete(r.byName, e.name)
		}
	}
	delete(r.listed, id)
}

// pruneLocked forgets the helpers removed more than helperForget ago, and
// every removed one if the record is still too big. r.mu must be held.
func (r *helperRecord) pruneLocked(now time.Time) {
	for _, all := range []bool{false, true} {
		if all && len(r.byName) <= maxHelperRecord {
			return
		}
		for name, e := range r.byName {
			if !e.gone.IsZero() && (all || now.Sub(e.gone) > helperForget) {
				delete(r.byName, name)
				if e.id != "" && r.byID[e.id] == e {
					delete(r.byID, e.id)
				}
			}
		}
	}
}

// knows reports whether the container with this ID, or any of these
// names (with or without the leading "/"), is one this client started.
func (r *helperRecord) knows(id string, names []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[id]; ok {
		return true
	}
	for _, n := range names {
		if _, ok := r.byName[strings.TrimPrefix(n, "/")]; ok && n != "" {
			return true
		}
	}
	return false
}

// wasListed reports whether the last list left this container out.
func (r *helperRecord) wasListed(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.listed[id]
	return ok
}

// setListed remembers which containers the last list left out, so that
// their events are left out of the feed too, even those of a helper made
// by another dockmap or by hand from this one's image.
func (r *helperRecord) setListed(ids map[string]struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listed = ids
}

// isHelper reports whether a listed container is one of dockmap's own
// helpers (see the top of this file).
func (c *Client) isHelper(s container.Summary) bool {
	return c.helpers.knows(s.ID, s.Names) || c.helper.owns(s.ImageID)
}

// isHelperEvent reports whether an engine event is about one of dockmap's
// own helpers. A container event names the container and, in its
// attributes, its name and the image as given at create (the helper
// image's reference); a network event names the container in its
// "container" attribute.
func (c *Client) isHelperEvent(m events.Message) bool {
	attrs := m.Actor.Attributes
	switch m.Type {
	case events.ContainerEventType:
		id := m.Actor.ID
		return c.helpers.knows(id, []string{attrs["name"]}) || c.helpers.wasListed(id) || c.helper.named(attrs["image"])
	case events.NetworkEventType:
		id := attrs["container"]
		return id != "" && (c.helpers.knows(id, nil) || c.helpers.wasListed(id))
	}
	return false
}

// owns reports whether the image with this ID is known to be the helper
// image.
func (h *helperImage) owns(imageID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.verdict[imageID]
}

// named reports whether an image as a container's create named it (a
// reference or an ID) is the helper image: its ID, known to be ours, or
// the helper reference while it is known to name it.
func (h *helperImage) named(image string) bool {
	if image == "" {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.verdict[image] {
		return true
	}
	return h.refOurs && h.ident != nil && image == h.ident.ref
}

// lookUpHelperImage learns the helper image's ID, without importing it,
// the first time it is called after the engine has it: so the leftovers
// of an earlier run of this build (and the helpers of another dockmap of
// the same build) are hidden from the first list on. A failure is
// silent: the next list tries again.
func (c *Client) lookUpHelperImage(ctx context.Context) {
	h := c.helper
	h.mu.Lock()
	looked := h.looked
	h.mu.Unlock()
	if looked {
		return
	}
	ident, err := c.helperIdentity()
	if err != nil {
		return // not a static binary: there is no helper image to see
	}
	id, ours, err := c.inspectImageLayer(ctx, ident.ref, ident.diffID)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case errors.Is(err, topology.ErrNotFound):
		h.looked = true // HelperImage tells when it makes it
	case err == nil:
		h.looked = true
		h.verdict[id] = ours
		h.refOurs = ours
	}
}

// verifyImagesOf inspects, once each, the images of listed containers that
// were created from the helper reference but whose image this client has
// not seen: another dockmap of the same build made it after this one
// looked. So its helpers leave this one's map at the next list, and
// their later events the feed (helperRecord.wasListed).
func (c *Client) verifyImagesOf(ctx context.Context, cs []container.Summary) {
	h := c.helper
	h.mu.Lock()
	ident := h.ident
	var todo []string
	if ident != nil {
		for _, s := range cs {
			if _, seen := h.verdict[s.ImageID]; !seen && s.Image == ident.ref && !slices.Contains(todo, s.ImageID) {
				todo = append(todo, s.ImageID)
			}
		}
	}
	h.mu.Unlock()
	for _, id := range todo {
		_, ours, err := c.inspectImageLayer(ctx, id, ident.diffID)
		if err != nil && !errors.Is(err, topology.ErrNotFound) {
			continue // the engine is in trouble: the next list tries again
		}
		// An image removed by force under its containers is not ours to
		// know any more: asked once, like the others.
		h.mu.Lock()
		h.verdict[id] = ours
		h.mu.Unlock()
	}
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}
