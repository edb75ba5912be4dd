package docker

import (
	"io"
	"os"
)

// ProbeImageIdentity exposes, to this package's tests, what identify
// computes for a binary: the image reference, the layer's diff ID and the
// files carried beside the binary (image path → host path).
func ProbeImageIdentity(bin string) (ref, diffID string, files map[string]string, err error) {
	id, err := identify(bin)
	if err != nil {
		return "", "", nil, err
	}
	files = make(map[string]string, len(id.libs))
	for _, l := range id.libs {
		files[l.name] = l.src
	}
	return id.ref, id.diffID, files, nil
}

// WriteProbeLayer writes the layer tar of bin's probe image to w, as the
// import sends it.
func WriteProbeLayer(w io.Writer, bin string) error {
	id, err := identify(bin)
	if err != nil {
		return err
	}
	f, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return writeRootfs(w, f, st.Size(), id.libs)
}
