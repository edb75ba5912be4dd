package hub_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/hub"
)

func recv(t *testing.T, s *hub.Subscription) (hub.Message, bool) {
	t.Helper()
	select {
	case m, ok := <-s.C():
		return m, ok
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return hub.Message{}, false
	}
}

func TestPublishReachesEverySubscriberInOrder(t *testing.T) {
	h := hub.New(8)
	subs := []*hub.Subscription{h.Subscribe(t.Context()), h.Subscribe(t.Context()), h.Subscribe(t.Context())}
	for i := uint64(1); i <= 5; i++ {
		h.Publish(hub.Message{Type: "delta", Seq: i})
	}
	for n, s := range subs {
		for want := uint64(1); want <= 5; want++ {
			m, ok := recv(t, s)
			if !ok || m.Seq != want {
				t.Fatalf("subscriber %d: got seq %d (open %v), want %d", n, m.Seq, ok, want)
			}
		}
	}
}

func TestSlowSubscriberIsDroppedAndOthersKeepGoing(t *testing.T) {
	h := hub.New(4)
	slow := h.Subscribe(t.Context())
	fast := h.Subscribe(t.Context())
	// The fast one reads each message as it comes; the slow one never reads.
	// If Publish blocked on the slow one, this loop would hang.
	for i := uint64(1); i <= 100; i++ {
		h.Publish(hub.Message{Seq: i})
		m, ok := recv(t, fast)
		if !ok || m.Seq != i {
			t.Fatalf("fast subscriber: got seq %d (open %v), want %d", m.Seq, ok, i)
		}
	}
	n := 0
	for range slow.C() {
		n++
	}
	if n != 4 {
		t.Errorf("slow subscriber got %d messages before the drop, want its buffer (4)", n)
	}
	if !errors.Is(slow.Err(), hub.ErrSlow) {
		t.Errorf("slow.Err() = %v, want ErrSlow", slow.Err())
	}
	if fast.Err() != nil {
		t.Errorf("fast.Err() = %v, want nil while open", fast.Err())
	}
	if got := h.Len(); got != 1 {
		t.Errorf("Len = %d after the drop, want 1", got)
	}
}

func TestContextEndsSubscription(t *testing.T) {
	h := hub.New(4)
	ctx, cancel := context.WithCancel(t.Context())
	s := h.Subscribe(ctx)
	cancel()
	if _, ok := recv(t, s); ok {
		t.Fatal("channel still open after cancel")
	}
	if !errors.Is(s.Err(), context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", s.Err())
	}
	if h.Len() != 0 {
		t.Errorf("Len = %d, want 0", h.Len())
	}
}

func TestCloseEndsAllSubscriptions(t *testing.T) {
	h := hub.New(4)
	a := h.Subscribe(t.Context())
	h.Close()
	if _, ok := recv(t, a); ok || !errors.Is(a.Err(), hub.ErrClosed) {
		t.Errorf("after Close: open=%v Err=%v, want closed with ErrClosed", ok, a.Err())
	}
	b := h.Subscribe(t.Context())
	if _, ok := recv(t, b); ok || !errors.Is(b.Err(), hub.ErrClosed) {
		t.Errorf("subscribe after Close: open=%v Err=%v, want closed with ErrClosed", ok, b.Err())
	}
	h.Publish(hub.Message{Seq: 1}) // must not panic on closed channels
}

func TestConcurrentSubscribePublishCancel(t *testing.T) {
	h := hub.New(2)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(t.Context())
			s := h.Subscribe(ctx)
			h.Publish(hub.Message{Seq: 1})
			cancel()
			for range s.C() {
			}
		}()
	}
	wg.Wait()
	if h.Len() != 0 {
		t.Errorf("Len = %d after every subscriber left, want 0", h.Len())
	}
}

// BenchmarkPublish measures one publish until every one of N subscribers
// has received it (in-process fan-out; the WebSocket figure is in
// internal/server's BenchmarkFanout500).
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100, 500} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := hub.New(hub.DefaultBuffer)
			got := make(chan struct{}, n)
			var wg sync.WaitGroup
			for i := 0; i < n; i++ {
				s := h.Subscribe(b.Context())
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range s.C() {
						got <- struct{}{}
					}
				}()
			}
			msg := hub.Message{Type: "delta", Data: []byte(`{"type":"delta"}`)}
			b.ReportAllocs()
			for b.Loop() {
				h.Publish(msg)
				for range n {
					<-got
				}
			}
			if h.Len() != n {
				b.Fatalf("%d of %d subscribers dropped", n-h.Len(), n)
			}
			h.Close()
			wg.Wait()
		})
	}
}
