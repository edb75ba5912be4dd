package docker

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// A dockmap built with cgo (what `go build` gives wherever a C compiler is
// installed) is dynamically linked: the kernel starts its ELF interpreter,
// the dynamic loader, which then maps the shared libraries the binary
// names. The probe image is FROM scratch, so for such a binary it carries
// the loader and every library too, each at the path the loader will look
// for it inside the image. Then the helper works whichever way dockmap was
// built, instead of every probe of a matrix falling back to one exec each.

// libraryDirs returns the directories the loader searches by default for
// a binary of this machine, after RPATH and RUNPATH: Debian's multiarch
// directories first, then the classic ones. The image has no
// /etc/ld.so.cache, so inside it these and the binary's own paths are all
// the loader searches: a library is therefore looked up on this host in
// the same places only, and stored at the path it was found under.
func libraryDirs(f *elf.File) []string {
	triplet := map[elf.Machine]string{
		elf.EM_X86_64: "x86_64-linux-gnu", elf.EM_AARCH64: "aarch64-linux-gnu", elf.EM_386: "i386-linux-gnu",
		elf.EM_ARM: "arm-linux-gnueabihf", elf.EM_PPC64: "powerpc64le-linux-gnu", elf.EM_S390: "s390x-linux-gnu",
		elf.EM_RISCV: "riscv64-linux-gnu",
	}[f.Machine]
	var dirs []string
	if triplet != "" {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	if f.Class == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64")
	}
	return append(dirs, "/lib", "/usr/lib")
}

// layerFile is a file of the probe image beyond the binary and /etc.
type layerFile struct {
	name string // its path in the image, absolute
	src  string // the file on this host whose content it gets
}

// runtimeFiles checks that the ELF file bin can run in the probe image and
// returns what the image must hold beside it: nothing for a static
// executable; for a dynamic one, its interpreter (PT_INTERP) and every
// shared library it needs (DT_NEEDED, and theirs in turn), found as the
// loader would find them. Each is named by the path the loader opens,
// whatever symlinks lead there on this host. The result is sorted by name.
//
// Every error wraps topology.ErrInvalid: the binary can never give an
// image on this host (not an ELF executable, a Go test binary, or a
// library that cannot be found, which the error names).
func runtimeFiles(binPath string, bin io.ReaderAt) ([]layerFile, error) {
	f, err := elf.NewFile(bin)
	if err != nil {
		return nil, fmt.Errorf("%w: not an ELF executable (%v); the probe image needs a Linux build of dockmap", topology.ErrInvalid, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("%w: ELF file of type %v is not an executable", topology.ErrInvalid, f.Type)
	}
	// A test binary that embeds dockmap (cmd/web's tests run it in
	// process) is the running executable, the default helper binary; run
	// as a helper it would run the tests, not `dockmap probe`.
	// go test names the binary <package>.test; its build info says
	// ".test" too, except for a main package's tests (cmd/web's), whose
	// Path is the package's own.
	if strings.HasSuffix(path.Base(binPath), ".test") {
		return nil, fmt.Errorf("%w: %s is a Go test binary, not dockmap", topology.ErrInvalid, binPath)
	}
	if bi, err := buildinfo.Read(bin); err == nil && strings.HasSuffix(bi.Path, ".test") {
		return nil, fmt.Errorf("%w: %s is a Go test binary, not dockmap", topology.ErrInvalid, bi.Path)
	}
	interp, err := interpreter(f)
	if err != nil || interp == "" {
		return nil, err // a static executable needs nothing else
	}
	if !path.IsAbs(interp) {
		return nil, fmt.Errorf("%w: the ELF interpreter %q is not an absolute path", topology.ErrInvalid, interp)
	}
	if _, err := os.Stat(interp); err != nil {
		return nil, fmt.Errorf("%w: dockmap is dynamically linked and its loader %s is missing (%v); build it with CGO_ENABLED=0", topology.ErrInvalid, interp, err)
	}
	files := map[string]string{interp: interp} // image path → host path
	// $ORIGIN in the binary's paths is its directory, as the kernel
	// names it (symlinks resolved).
	origin, err := filepath.EvalSymlinks(binPath)
	if err != nil {
		return nil, fmt.Errorf("%w: find the dockmap binary: %v", topology.ErrInvalid, err)
	}
	if origin, err = filepath.Abs(origin); err != nil {
		return nil, fmt.Errorf("%w: find the dockmap binary: %v", topology.ErrInvalid, err)
	}
	if err := resolveLibraries(f, filepath.Dir(origin), files); err != nil {
		return nil, err
	}
	out := make([]layerFile, 0, len(files))
	for name, src := range files {
		out = append(out, layerFile{name: name, src: src})
	}
	slices.SortFunc(out, func(a, b layerFile) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// interpreter returns the path in f's PT_INTERP, "" if it has none.
func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			return "", fmt.Errorf("%w: read the ELF interpreter: %v", topology.ErrInvalid, err)
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	return "", nil
}

// elfObject is an ELF file whose DT_NEEDED entries are still to resolve.
type elfObject struct {
	f    *elf.File
	name string // its path in the image ("/dockmap" for the binary)
	// origin is what $ORIGIN in its paths stands for on this host and in
	// the image: the binary is at /dockmap in the image, wherever it is
	// here.
	hostOrigin, imageOrigin string
	// rpaths are the DT_RPATH lists of the objects that loaded it, which
	// glibc searches too when an object has no DT_RUNPATH.
	rpaths [][2][]string
}

// resolveLibraries adds to files every library the binary f needs, breadth
// first like the loader, which also loads a name (soname) once however
// many objects need it.
func resolveLibraries(f *elf.File, hostOrigin string, files map[string]string) error {
	queue := []elfObject{{f: f, name: "/dockmap", hostOrigin: hostOrigin, imageOrigin: "/"}}
	loaded := map[string]bool{}
	for len(queue) > 0 {
		obj := queue[0]
		queue = queue[1:]
		needed, err := obj.f.ImportedLibraries()
		if err != nil {
			return fmt.Errorf("%w: read the libraries %s needs: %v", topology.ErrInvalid, obj.name, err)
		}
		dirs, rpaths, err := searchPath(obj)
		if err != nil {
			return err
		}
		for _, lib := range needed {
			if loaded[lib] {
				continue
			}
			loaded[lib] = true
			imagePath, hostPath, err := findLibrary(lib, dirs, f)
			if err != nil {
				return fmt.Errorf("%w: dockmap is dynamically linked and %s needs %s, %v; install it, or build dockmap with CGO_ENABLED=0", topology.ErrInvalid, obj.name, lib, err)
			}
			files[imagePath] = hostPath
			lf, err := elf.Open(hostPath)
			if err != nil {
				return fmt.Errorf("%w: read library %s: %v", topology.ErrInvalid, hostPath, err)
			}
			defer lf.Close()
			queue = append(queue, elfObject{f: lf, name: imagePath,
				hostOrigin: filepath.Dir(hostPath), imageOrigin: path.Dir(imagePath), rpaths: rpaths})
		}
	}
	return nil
}

// searchPath returns the directories, each as (on this host, in the
// image), in which the loader looks for obj's libraries, and the RPATH
// chain its own libraries inherit. glibc's order: the object's DT_RPATH,
// then its loaders', unless it has a DT_RUNPATH; then DT_RUNPATH; then
// the default directories. (LD_LIBRARY_PATH is not set in a helper.)
func searchPath(obj elfObject) (dirs [][2]string, rpaths [][2][]string, err error) {
	runpath, err := obj.f.DynString(elf.DT_RUNPATH)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: read the RUNPATH of %s: %v", topology.ErrInvalid, obj.name, err)
	}
	rpath, err := obj.f.DynString(elf.DT_RPATH)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: read the RPATH of %s: %v", topology.ErrInvalid, obj.name, err)
	}
	expand := func(list []string) [2][]string {
		var host, image []string
		for _, l := range list {
			for _, d := range strings.Split(l, ":") {
				if d == "" {
					continue
				}
				h := strings.NewReplacer("${ORIGIN}", obj.hostOrigin, "$ORIGIN", obj.hostOrigin).Replace(d)
				i := strings.NewReplacer("${ORIGIN}", obj.imageOrigin, "$ORIGIN", obj.imageOrigin).Replace(d)
				host, image = append(host, h), append(image, i)
			}
		}
		return [2][]string{host, image}
	}
	add := func(p [2][]string) {
		for i := range p[0] {
			dirs = append(dirs, [2]string{p[0][i], p[1][i]})
		}
	}
	rpaths = obj.rpaths
	if len(runpath) == 0 {
		// glibc ignores an object's DT_RPATH when it has a DT_RUNPATH,
		// both for itself and for what it loads.
		if len(rpath) > 0 {
			rpaths = append([][2][]string{expand(rpath)}, obj.rpaths...)
		}
		for _, p := range rpaths {
			add(p)
		}
	}
	add(expand(runpath))
	for _, d := range libraryDirs(obj.f) {
		dirs = append(dirs, [2]string{d, d})
	}
	return dirs, rpaths, nil
}

// findLibrary looks lib up in dirs as the loader does: the first regular
// file by that name that is an ELF object of the binary's class and
// machine (a 32-bit library of the same name is skipped). A name with a
// slash is a path and is not searched.
func findLibrary(lib string, dirs [][2]string, bin *elf.File) (imagePath, hostPath string, err error) {
	if strings.Contains(lib, "/") {
		if !path.IsAbs(lib) {
			return "", "", fmt.Errorf("which is a relative path")
		}
		dirs = [][2]string{{path.Dir(lib), path.Dir(lib)}}
		lib = path.Base(lib)
	}
	var tried []string
	for _, d := range dirs {
		host := filepath.Join(d[0], lib)
		tried = append(tried, d[0])
		if !fits(host, bin) {
			continue
		}
		if !path.IsAbs(d[1]) {
			return "", "", fmt.Errorf("found at %s but through the relative path %q, which the loader resolves against the working directory", host, d[1])
		}
		return path.Join(d[1], lib), host, nil
	}
	return "", "", fmt.Errorf("found in none of %s", strings.Join(slices.Compact(tried), ", "))
}

// fits reports whether the file at p (symlinks followed) is an ELF shared
// object the binary can load.
func fits(p string, bin *elf.File) bool {
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	lf, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer lf.Close()
	return lf.Class == bin.Class && lf.Machine == bin.Machine
}
