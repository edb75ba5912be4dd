package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// BenchmarkProbeClickToEdge measures one probe as a user sees it: from the
// click on "Ping now" in web's panel to the frame where the probe edge
// web → database carries the new result, in a real Chromium on the real
// engine (exec of ping in web, the result streamed back over /live).
// Run it with -benchtime=20x or more.
func BenchmarkProbeClickToEdge(b *testing.B) {
	c := dockertest.Client(b)
	db := dockertest.RunContainer(b, c)
	web := dockertest.RunContainer(b, c)
	base := startDockmap(b, nil)
	br := newBrowser(b)
	openMap(b, br, base)
	waitJS(b, br, fmt.Sprintf(`window.cy.getElementById(%s).nonempty() && window.cy.getElementById(%s).nonempty()`,
		jsString("c:"+db), jsString("c:"+web)), waitTimeout)
	clickNode(b, br, "c:"+web)
	waitJS(b, br, panelShows("c:"+web), waitTimeout)
	mustDo(b, br, "choose the target",
		chromedp.SetValue(chromedp.CSS(`#panel [data-testid=ping-target]`), db),
		chromedp.Click(chromedp.CSS(`#panel [data-testid=ping-by-ip] + span`)),
	)
	// The page script clicks, then waits frame by frame until the panel's
	// result row for database has a new timestamp; the overlay edge is
	// updated in the same handler, before that frame is painted.
	measure := fmt.Sprintf(`(async () => {
		const row = () => document.querySelector('#panel [data-testid=ping-result][data-to=%[1]s][data-by=ip]');
		const before = row()?.dataset.at || '';
		const t0 = performance.now();
		document.querySelector('#panel [data-testid=ping-now]').click();
		while (performance.now() - t0 < 20000) {
			await new Promise((r) => requestAnimationFrame(r));
			const r = row();
			const edge = window.cy.getElementById(%[2]s);
			if (r && r.dataset.at !== before && edge.nonempty() && edge.hasClass('probe-ok')) return performance.now() - t0;
		}
		return -1;
	})()`, db, jsString("p:"+web+">"+db+":ip"))
	var samples []time.Duration
	for b.Loop() {
		ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](measure, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil || ms < 0 {
			b.Fatalf("probe never coloured the edge: %v (%v ms)", err, ms)
		}
		samples = append(samples, time.Duration(ms*float64(time.Millisecond)))
		time.Sleep(50 * time.Millisecond) // a new timestamp for the next round
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "p50-ms-click-to-edge")
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds())/1000, "p99-ms-click-to-edge")
}

// BenchmarkAttachDetachToGraph measures attaching a container to a network
// from the page (the same API call the Attach button makes) until the
// member edge is on the page's graph, and the same for detaching. Run it
// with -benchtime=10x or more.
func BenchmarkAttachDetachToGraph(b *testing.B) {
	c := dockertest.Client(b)
	netName := dockertest.UniqueName(b, "benchnet")
	netID := dockertest.CreateNetwork(b, c, netName)
	ctr := dockertest.RunContainer(b, c)
	base := startDockmap(b, nil)
	br := newBrowser(b)
	openMap(b, br, base)
	waitJS(b, br, fmt.Sprintf(`window.cy.getElementById(%s).nonempty() && window.cy.getElementById(%s).nonempty()`,
		jsString("c:"+ctr), jsString("n:"+netID)), waitTimeout)
	measure := func(action string, wantEdge bool) string {
		return fmt.Sprintf(`(async () => {
			const t0 = performance.now();
			const r = await fetch(%[1]s, {method: 'POST', headers: {'Content-Type': 'application/json'},
				body: JSON.stringify({container: %[2]s})});
			if (!r.ok) return -1;
			while (performance.now() - t0 < 20000) {
				if (window.cy.getElementById(%[3]s).nonempty() === %[4]v) return performance.now() - t0;
				await new Promise((res) => requestAnimationFrame(res));
			}
			return -2;
		})()`, jsString("/api/networks/"+netID+"/"+action), jsString(ctr), jsString("m:"+ctr+"@"+netID), wantEdge)
	}
	run := func(expr string) time.Duration {
		ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
		defer cancel()
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr, chromedp.EvalAwaitPromise))
		if err != nil || ms < 0 {
			b.Fatalf("the graph never showed the change: %v (%v)", err, ms)
		}
		return time.Duration(ms * float64(time.Millisecond))
	}
	var attach, detach []time.Duration
	for b.Loop() {
		attach = append(attach, run(measure("connect", true)))
		detach = append(detach, run(measure("disconnect", false)))
	}
	slices.Sort(attach)
	slices.Sort(detach)
	b.ReportMetric(float64(attach[len(attach)/2].Microseconds())/1000, "p50-ms-attach")
	b.ReportMetric(float64(detach[len(detach)/2].Microseconds())/1000, "p50-ms-detach")
	b.ReportMetric(float64(attach[len(attach)-1].Microseconds())/1000, "max-ms-attach")
	b.ReportMetric(float64(detach[len(detach)-1].Microseconds())/1000, "max-ms-detach")
}

// BenchmarkLessonTickOnPage measures a lesson step ticking green as a
// class sees it: from the page's request that satisfies the step (the
// second of lesson 2's two attaches to backend, through the API) to the
// frame where the step shows done in the Lesson tab; the engine event, the
// re-list, the delta, the lessons' evaluation and the lesson frame all lie
// in between. Each round is a new participant (ticks stay done). Run it
// with -benchtime=5x or more.
func BenchmarkLessonTickOnPage(b *testing.B) {
	c := dockertest.Client(b)
	base := startDockmap(b, nil)
	br := newBrowser(b)
	openMap(b, br, base)
	var ticks []time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		p := randomPrefix(b)
		netID := dockertest.CreateNetwork(b, c, p+"backend")
		api := dockertest.RunContainer(b, c, dockertest.WithName(p+"api"))
		db := dockertest.RunContainer(b, c, dockertest.WithName(p+"db"))
		if err := c.ConnectNetwork(context.Background(), netID, api, nil); err != nil {
			b.Fatal(err)
		}
		chooseLesson(b, br, "bridges", p)
		waitJS(b, br, stepState("run-db")+` === 'done' && `+stepState("share-network")+` !== 'done'`, waitTimeout)
		b.StartTimer()
		ctx, cancel := context.WithTimeout(br.ctx, 30*time.Second)
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`(async () => {
			const t0 = performance.now();
			const r = await fetch(%s, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({container: %s})});
			if (!r.ok) return -1;
			while (performance.now() - t0 < 20000) {
				if (%s === 'done') return performance.now() - t0;
				await new Promise((res) => requestAnimationFrame(res));
			}
			return -2;
		})()`, jsString("/api/networks/"+netID+"/connect"), jsString(db), stepState("share-network")), chromedp.EvalAwaitPromise))
		cancel()
		if err != nil || ms < 0 {
			b.Fatalf("round %d: the step never ticked: %v (%v)", round, err, ms)
		}
		ticks = append(ticks, time.Duration(ms*float64(time.Millisecond)))
	}
	slices.Sort(ticks)
	b.ReportMetric(float64(ticks[len(ticks)/2].Microseconds())/1000, "p50-ms-tick")
	b.ReportMetric(float64(ticks[len(ticks)-1].Microseconds())/1000, "max-ms-tick")
}
