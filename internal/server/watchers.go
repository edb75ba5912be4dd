package server

import (
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/protocol"
)

// watchersDelay is how long a change of the watcher counts waits before
// it is sent: a class that opens the invite together makes one frame, not
// thirty, each to thirty browsers.
const watchersDelay = 300 * time.Millisecond

// watchers counts the open /live connections by role and tells every
// connection when the counts change (the page header's "N watching").
//
// It owns no goroutine: a change arms a timer (time.AfterFunc) unless one
// is armed already, and the timer sends the counts as they are when it
// fires, if they differ from the last ones sent.
type watchers struct {
	pub   Publisher
	delay time.Duration

	mu                 sync.Mutex // protects the fields below
	viewers, operators int
	sentV, sentO       int
	armed              bool
}

func newWatchers(pub Publisher, delay time.Duration) *watchers {
	return &watchers{pub: pub, delay: delay}
}

// join counts a new connection; leave, called once when it closes, counts
// it out.
func (w *watchers) join(operator bool) (leave func()) {
	w.add(operator, 1)
	var once sync.Once
	return func() { once.Do(func() { w.add(operator, -1) }) }
}

func (w *watchers) add(operator bool, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if operator {
		w.operators += n
	} else {
		w.viewers += n
	}
	if !w.armed {
		w.armed = true
		time.AfterFunc(w.delay, w.flush)
	}
}

// flush sends the counts if they changed since the last frame. Publish
// never blocks, so it is called under the lock: two flushes cannot send
// their frames out of order.
func (w *watchers) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	if w.viewers == w.sentV && w.operators == w.sentO {
		return
	}
	w.sentV, w.sentO = w.viewers, w.operators
	w.pub.Publish(protocol.Message(&protocol.Watchers{Viewers: w.viewers, Operators: w.operators}))
}

// frame is the current counts as a frame, for a new connection: it would
// otherwise wait for the next change to know them.
func (w *watchers) frame() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return protocol.Encode(&protocol.Watchers{Viewers: w.viewers, Operators: w.operators})
}
