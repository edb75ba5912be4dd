// Package metrics is dockmap's Prometheus metrics, with client_golang:
// what the live map, the engines, probes, jobs and the HTTP side do. Most
// are counted from the frames the page's hub carries (Follow), the very
// frames every browser gets, so that no package grows a metrics hook; the
// rest (re-lists, WebSocket clients, HTTP requests) come from small hooks.
//
// Names have the dockmap_ prefix and base units (seconds); labels are
// engine names, kinds and results, never a container ID.
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
)

// Metrics holds dockmap's collectors and their registry.
type Metrics struct {
	reg *prometheus.Registry

	clients     prometheus.Gauge
	connected   *prometheus.GaugeVec
	events      *prometheus.CounterVec
	relists     *prometheus.CounterVec
	relistTime  *prometheus.HistogramVec
	deltas      prometheus.Counter
	probes      *prometheus.CounterVec
	probeRTT    *prometheus.HistogramVec
	jobs        *prometheus.CounterVec
	requests    *prometheus.CounterVec
	requestTime *prometheus.HistogramVec
}

// New makes the collectors, with Go's runtime and the process's own.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.clients = prometheus.NewGauge(prometheus.GaugeOpts{Name: "dockmap_websocket_clients",
		Help: "Browsers (and scripts) holding /live now."})
	m.connected = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dockmap_engine_connected",
		Help: "1 while dockmap is connected to the engine, else 0."}, []string{"engine"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dockmap_engine_events_total",
		Help: "Engine events received and shown (exec noise and dockmap's own helpers left out), by engine and type."}, []string{"engine", "type"})
	m.relists = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dockmap_relists_total",
		Help: "Re-lists of an engine (each event burst makes one), by engine and result (ok, error)."}, []string{"engine", "result"})
	m.relistTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dockmap_relist_duration_seconds",
		Help: "Time to list an engine's containers, networks and volumes.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"engine"})
	m.deltas = prometheus.NewCounter(prometheus.CounterOpts{Name: "dockmap_deltas_published_total",
		Help: "Map changes (deltas) sent to the browsers."})
	m.probes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dockmap_probes_total",
		Help: "Reachability probes run, by way (ip, name, tcp) and result (ok, or the failure's kind)."}, []string{"by", "result"})
	m.probeRTT = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dockmap_probe_rtt_seconds",
		Help: "Round-trip time of the probes that answered, by way.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9)}, []string{"by"})
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dockmap_jobs_total",
		Help: "Long actions that ended, by kind and result (done, failed, rolled-back, canceled)."}, []string{"kind", "result"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dockmap_http_requests_total",
		Help: "HTTP requests answered, by route (its pattern, never an ID), method and code."}, []string{"route", "method", "code"})
	m.requestTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dockmap_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route and method (/live counts until it closes).", Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	m.reg.MustRegister(m.clients, m.connected, m.events, m.relists, m.relistTime, m.deltas, m.probes, m.probeRTT, m.jobs,
		m.requests, m.requestTime, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Relisted records one re-list of engine that took d and ended with err
// (live.WithRelisted).
func (m *Metrics) Relisted(engine string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.relists.WithLabelValues(engine, result).Inc()
	m.relistTime.WithLabelValues(engine).Observe(d.Seconds())
}

// ClientOpened and ClientClosed count /live's connections.
func (m *Metrics) ClientOpened() { m.clients.Inc() }

// ClientClosed is ClientOpened's end.
func (m *Metrics) ClientClosed() { m.clients.Dec() }

// Request records one HTTP request answered.
func (m *Metrics) Request(route, method string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.requestTime.WithLabelValues(route, method).Observe(d.Seconds())
}

// Follow counts the frames h carries until ctx ends: events, deltas,
// probe results, jobs that end and the engines' states. A follower that
// falls behind is dropped by the hub and subscribes again: counts may
// miss a burst then, the map never does.
func (m *Metrics) Follow(ctx context.Context, h *hub.Hub) error {
	for ctx.Err() == nil {
		sub := h.Subscribe(ctx)
		for msg := range sub.C() {
			m.count(msg)
		}
		if errors.Is(sub.Err(), hub.ErrClosed) {
			return nil
		}
	}
	return nil
}

func (m *Metrics) count(msg hub.Message) {
	switch msg.Type {
	case protocol.TypeDelta:
		m.deltas.Inc()
	case protocol.TypeEvent:
		var f protocol.Event
		if json.Unmarshal(msg.Data, &f) == nil {
			engine := f.Engine
			if engine == "" {
				engine = engines.Local
			}
			m.events.WithLabelValues(engine, f.Event.Type).Inc()
		}
	case protocol.TypeProbe:
		var f protocol.Probe
		if json.Unmarshal(msg.Data, &f) == nil {
			by := f.Result.By
			if f.Result.Port > 0 {
				by = "tcp"
			}
			result := "ok"
			if !f.Result.OK {
				result = f.Result.Failure
				if result == "" {
					result = "failed"
				}
			}
			m.probes.WithLabelValues(by, result).Inc()
			if f.Result.OK && f.Result.RTTms > 0 {
				m.probeRTT.WithLabelValues(by).Observe(f.Result.RTTms / 1000)
			}
		}
	case protocol.TypeJob:
		var f protocol.Job
		if json.Unmarshal(msg.Data, &f) == nil && f.Job.State != protocol.JobRunning {
			m.jobs.WithLabelValues(f.Job.Kind, f.Job.State).Inc()
		}
	case protocol.TypeEngines:
		var f protocol.Engines
		if json.Unmarshal(msg.Data, &f) == nil {
			for _, e := range f.Engines {
				v := 0.0
				if e.Connected {
					v = 1
				}
				m.connected.WithLabelValues(e.Name).Set(v)
			}
		}
	}
}
