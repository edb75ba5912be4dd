package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Outputs captured from busybox 1.35 (Debian's busybox-static, the
// fixture image), iputils 20221126 (Debian 12) and iputils on musl
// (Alpine), stdout and stderr joined as the prober joins them.
func TestParsePing(t *testing.T) {
	tests := []struct {
		name         string
		exit         int
		out          string
		want         outcome
		wantUnusable bool
	}{
		{
			name: "busybox reply by IP", exit: 0,
			out: "PING 172.17.0.5 (172.17.0.5): 56 data bytes\n64 bytes from 172.17.0.5: seq=0 ttl=64 time=1.211 ms\n\n" +
				"--- 172.17.0.5 ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\nround-trip min/avg/max = 1.211/1.211/1.211 ms\n\n",
			want: outcome{ok: true, rttMs: 1.211, resolved: "172.17.0.5", detail: "64 bytes from 172.17.0.5: seq=0 ttl=64 time=1.211 ms"},
		},
		{
			name: "busybox reply by link name", exit: 0,
			out:  "PING database (172.17.0.3): 56 data bytes\n64 bytes from 172.17.0.3: seq=0 ttl=64 time=0.080 ms\n\n--- database ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\n",
			want: outcome{ok: true, rttMs: 0.08, resolved: "172.17.0.3", detail: "64 bytes from 172.17.0.3: seq=0 ttl=64 time=0.080 ms"},
		},
		{
			name: "iputils reply by name", exit: 0,
			out: "PING database (172.17.0.3) 56(84) bytes of data.\n64 bytes from database (172.17.0.3): icmp_seq=1 ttl=64 time=0.080 ms\n\n" +
				"--- database ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\nrtt min/avg/max/mdev = 0.080/0.080/0.080/0.000 ms\n",
			want: outcome{ok: true, rttMs: 0.08, resolved: "172.17.0.3", detail: "64 bytes from database (172.17.0.3): icmp_seq=1 ttl=64 time=0.080 ms"},
		},
		{
			name: "busybox bad address", exit: 1,
			out:  "\nping: bad address 'database'\n",
			want: outcome{failure: FailName, detail: "ping: bad address 'database'"},
		},
		{
			name: "iputils on glibc", exit: 2,
			out:  "\nping: database: Name or service not known\n",
			want: outcome{failure: FailName, detail: "ping: database: Name or service not known"},
		},
		{
			name: "iputils on musl", exit: 2,
			out:  "\nping: database: Name does not resolve\n",
			want: outcome{failure: FailName, detail: "ping: database: Name does not resolve"},
		},
		{
			name: "iputils with no DNS server", exit: 2,
			out:  "\nping: database: Temporary failure in name resolution\n",
			want: outcome{failure: FailName, detail: "ping: database: Temporary failure in name resolution"},
		},
		{
			name: "busybox no reply", exit: 1,
			out:  "PING 172.17.250.250 (172.17.250.250): 56 data bytes\n\n--- 172.17.250.250 ping statistics ---\n1 packets transmitted, 0 packets received, 100% packet loss\n",
			want: outcome{failure: FailTimeout, resolved: "172.17.250.250", detail: "1 packets transmitted, 0 packets received, 100% packet loss"},
		},
		{
			name: "iputils no reply", exit: 1,
			out:  "PING 10.0.0.9 (10.0.0.9) 56(84) bytes of data.\n\n--- 10.0.0.9 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n",
			want: outcome{failure: FailTimeout, resolved: "10.0.0.9", detail: "1 packets transmitted, 0 received, 100% packet loss, time 0ms"},
		},
		{
			name: "busybox with no network", exit: 1,
			out:  "PING 172.17.0.5 (172.17.0.5): 56 data bytes\nping: sendto: Network is unreachable\n",
			want: outcome{failure: FailNoRoute, resolved: "172.17.0.5", detail: "ping: sendto: Network is unreachable"},
		},
		{
			name: "iputils host unreachable", exit: 1,
			out: "PING 172.18.0.9 (172.18.0.9) 56(84) bytes of data.\nFrom 172.18.0.2 icmp_seq=1 Destination Host Unreachable\n\n" +
				"--- 172.18.0.9 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n",
			want: outcome{failure: FailNoRoute, resolved: "172.18.0.9", detail: "From 172.18.0.2 icmp_seq=1 Destination Host Unreachable"},
		},
		{
			name: "iputils connect: network unreachable", exit: 2,
			out:  "ping: connect: Network is unreachable\n",
			want: outcome{failure: FailNoRoute, detail: "ping: connect: Network is unreachable"},
		},
		{
			name: "busybox not root", exit: 1,
			out:  "PING 172.17.0.5 (172.17.0.5): 56 data bytes\nping: permission denied (are you root?)\n",
			want: outcome{failure: FailImpossible, detail: "ping: permission denied (are you root?)"}, wantUnusable: true,
		},
		{
			name: "iputils without NET_RAW", exit: 2,
			out:  "ping: socket: Operation not permitted\n",
			want: outcome{failure: FailImpossible, detail: "ping: socket: Operation not permitted"}, wantUnusable: true,
		},
		{
			name: "no ping binary (engine 20.10)", exit: 126,
			out:  "OCI runtime exec failed: exec failed: unable to start container process: exec: \"ping\": executable file not found in $PATH: unknown\r\n\n",
			want: outcome{failure: FailImpossible, detail: "OCI runtime exec failed: exec failed: unable to start container process: exec: \"ping\": executable file not found in $PATH: unknown"}, wantUnusable: true,
		},
		{
			name: "no ping applet", exit: 127,
			out:  "ping: applet not found\n",
			want: outcome{failure: FailImpossible, detail: "ping: applet not found"}, wantUnusable: true,
		},
		{
			name: "other error", exit: 2,
			out:  "ping: unknown iface eth9\n",
			want: outcome{failure: FailImpossible, detail: "ping: unknown iface eth9"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unusable := parsePing(tt.exit, tt.out)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(outcome{})); diff != "" {
				t.Errorf("parsePing outcome (-want +got):\n%s", diff)
			}
			if unusable != tt.wantUnusable {
				t.Errorf("parsePing unusable = %v, want %v", unusable, tt.wantUnusable)
			}
		})
	}
}

func TestParseNC(t *testing.T) {
	tests := []struct {
		name string
		exit int
		out  string
		want outcome
		v    ncVerdict
	}{
		{
			name: "busybox connected", exit: 0, out: "\n",
			want: outcome{ok: true, detail: "connected"},
		},
		{
			name: "busybox refused", exit: 1,
			out:  "nc: can't connect to remote host (172.17.0.5): Connection refused\n",
			want: outcome{failure: FailRefused, resolved: "172.17.0.5", detail: "nc: can't connect to remote host (172.17.0.5): Connection refused"},
		},
		{
			name: "busybox bad address", exit: 1, out: "nc: bad address 'database'\n",
			want: outcome{failure: FailName, detail: "nc: bad address 'database'"},
		},
		{
			name: "busybox timed out", exit: 1, out: "nc: timed out\n",
			want: outcome{failure: FailTimeout, detail: "nc: timed out"},
		},
		{
			name: "busybox no network", exit: 1,
			out:  "nc: can't connect to remote host (172.17.0.5): Network is unreachable\n",
			want: outcome{failure: FailNoRoute, resolved: "172.17.0.5", detail: "nc: can't connect to remote host (172.17.0.5): Network is unreachable"},
		},
		{
			name: "busybox without -z", exit: 1,
			out:  "nc: invalid option -- 'z'\nBusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.\n\nUsage: nc [-iN] [-wN] [-l] [-p PORT] [-f FILE|IPADDR PORT] [-e PROG]\n",
			want: outcome{failure: FailImpossible, detail: "nc: invalid option -- 'z'"}, v: ncNoZ,
		},
		{
			name: "openbsd succeeded", exit: 0,
			out:  "Connection to database (172.18.0.3) 8080 port [tcp/http-alt] succeeded!\n",
			want: outcome{ok: true, resolved: "172.18.0.3", detail: "Connection to database (172.18.0.3) 8080 port [tcp/http-alt] succeeded!"},
		},
		{
			name: "openbsd refused", exit: 1,
			out:  "nc: connect to 172.18.0.3 port 8081 (tcp) failed: Connection refused\n",
			want: outcome{failure: FailRefused, detail: "nc: connect to 172.18.0.3 port 8081 (tcp) failed: Connection refused"},
		},
		{
			name: "openbsd name", exit: 1,
			out:  "nc: getaddrinfo for host \"database\" port 8080: Name or service not known\n",
			want: outcome{failure: FailName, detail: "nc: getaddrinfo for host \"database\" port 8080: Name or service not known"},
		},
		{
			name: "openbsd timeout", exit: 1,
			out:  "nc: connect to 10.0.0.9 port 80 (tcp) timed out: Operation now in progress\n",
			want: outcome{failure: FailTimeout, detail: "nc: connect to 10.0.0.9 port 80 (tcp) timed out: Operation now in progress"},
		},
		{
			name: "no nc", exit: 127,
			out:  "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nc\": executable file not found in $PATH: unknown\n",
			want: outcome{failure: FailImpossible, detail: "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nc\": executable file not found in $PATH: unknown"}, v: ncMissing,
		},
		{
			name: "silent failure", exit: 1, out: "\n",
			want: outcome{failure: FailImpossible, detail: "nc exited with status 1 and said nothing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, v := parseNC(tt.exit, tt.out)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(outcome{})); diff != "" {
				t.Errorf("parseNC outcome (-want +got):\n%s", diff)
			}
			if v != tt.v {
				t.Errorf("parseNC verdict = %v, want %v", v, tt.v)
			}
		})
	}
}

func TestLineOutcome(t *testing.T) {
	lines := parseLines("not json\n" +
		`{"target":"db","ok":true,"rttMs":0.1,"resolved":"172.18.0.3","failure":"","detail":"reply"}` + "\n" +
		`{"target":"x","ok":false,"failure":"exploded","detail":"boom"}` + "\n" +
		`{"target":"y","ok":false,"failure":"refused","detail":"dial tcp: connection refused"}` + "\n")
	want := map[string]outcome{
		"db": {ok: true, rttMs: 0.1, resolved: "172.18.0.3", detail: "reply", method: MethodHelper},
		"x":  {failure: FailImpossible, detail: `unknown failure "exploded": boom`, method: MethodHelper},
		"y":  {failure: FailRefused, detail: "dial tcp: connection refused", method: MethodHelper},
	}
	got := make(map[string]outcome)
	for k, l := range lines {
		got[k] = l.outcome()
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(outcome{})); diff != "" {
		t.Errorf("helper lines (-want +got):\n%s", diff)
	}
}

func TestValidTarget(t *testing.T) {
	for s, want := range map[string]bool{
		"172.17.0.3": true, "fd00::3": true, "database": true, "my_db.v2-x": true,
		"": false, "-f": false, "a b": false, "db;rm": false, "$(x)": false, "db\n": false,
	} {
		if got := validTarget(s); got != want {
			t.Errorf("validTarget(%q) = %v, want %v", s, got, want)
		}
	}
}
