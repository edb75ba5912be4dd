package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// logLineCount is how many lines the benchmark's container prints.
const logLineCount = 200_000

// BenchmarkLogsLinesPerSecond measures how fast the logs route delivers a
// container's lines to a client, the page's way (follow=1, Server-Sent
// Events, to the "end" event of a container that stopped) and a script's
// way (JSON lines, no follow): dockmap run as the user runs it, over real
// HTTP, on the real engine, for a container that printed `seq 1 200000`.
// Run it with -benchtime=3x.
func BenchmarkLogsLinesPerSecond(b *testing.B) {
	c := dockertest.Client(b)
	// The fixture's busybox has no seq: sh counts instead.
	id := dockertest.RunContainer(b, c, dockertest.WithCmd("sh", "-c", fmt.Sprintf(`i=0; while [ $i -lt %d ]; do i=$((i+1)); echo $i; done`, logLineCount)))
	base := startDockmap(b, nil)
	hc := &http.Client{Timeout: 5 * time.Minute}
	read := func(query string) (lines int, last []byte) {
		resp, err := hc.Get(base + "/api/containers/" + id + "/logs?" + query)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			// Not on the map yet: 404 until the live map lists it.
			return 0, []byte(resp.Status)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			l := sc.Bytes()
			if bytes.HasPrefix(l, []byte("data: {\"stream\"")) || bytes.HasPrefix(l, []byte("{\"stream\"")) {
				lines++
				last = append(last[:0], l...)
			}
		}
		if err := sc.Err(); err != nil {
			b.Fatal(err)
		}
		return lines, last
	}
	want := fmt.Sprintf(`"text":"%d"}`, logLineCount)
	dockertest.WaitFor(b, 2*time.Minute, func() (bool, string) {
		_, last := read("tail=1")
		return bytes.HasSuffix(last, []byte(want)), fmt.Sprintf("last line %s", last)
	})
	for _, bc := range []struct{ name, query string }{{"sse", "follow=1&tail=all"}, {"ndjson", "tail=all"}} {
		b.Run(bc.name, func(b *testing.B) {
			var total int
			var spent time.Duration
			for b.Loop() {
				start := time.Now()
				n, _ := read(bc.query)
				spent += time.Since(start)
				if n != logLineCount {
					b.Fatalf("%d lines, want %d", n, logLineCount)
				}
				total += n
			}
			b.ReportMetric(float64(total)/spent.Seconds(), "lines/s")
		})
	}
}
