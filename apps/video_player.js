// The review player in the browser: the proxy played natively by a <video>, the frame on
// screen named from the stream's real frame times (`model.times`) and the times that
// requestVideoFrameCallback reports, never currentTime × fps. A step seeks to the middle
// of the wanted frame and is confirmed by the next presented frame; a step asked for while
// a seek is pending retargets it, so key presses never pile up.
// Steps while paused are faster still when the proxy's packet index is given
// (`model.packets`, written by PyAV at proxy time): the page fetches the proxy a GOP at a
// time (HTTP Range), decodes it with WebCodecs and keeps the frames of the GOPs around the one
// shown; a step draws its frame on a canvas over the video at once, named by the frame's own
// timestamp. The <video> follows quietly once the steps stop, so that play starts there.
// Compare mode (`compare_src` set): a second <video> follows the first frame for frame,
// seeking to the middle of its own frame i whenever the first settles on frame i, playing
// along while the first plays; side by side, or laid over the first and clipped at `wipe`.

const DROP_RATES = [30000 / 1001, 60000 / 1001];

// The same strings as trulience/review/timecode.py (tests compare them).
export function timecode(frame, fps, dropFrame) {
  const nominal = Math.max(1, Math.round(fps));
  const drop = dropFrame && DROP_RATES.some((r) => Math.abs(fps - r) < 0.01) ? nominal / 15 : 0;
  if (drop) {
    const perTen = nominal * 600 - drop * 9;
    const perMinute = nominal * 60 - drop;
    const tens = Math.floor(frame / perTen);
    const rest = frame % perTen;
    frame += drop * 9 * tens + (rest > drop ? drop * Math.floor((rest - drop) / perMinute) : 0);
  }
  const two = (n) => String(n).padStart(2, "0");
  const ff = frame % nominal;
  const seconds = Math.floor(frame / nominal);
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:` +
    `${two(seconds % 60)}${drop ? ";" : ":"}${two(ff)}`;
}

// A typed timecode (HH:MM:SS:FF, `;` for drop-frame) or frame number, as a frame index.
export function parseTimecode(text, fps, dropFrame, startNumber) {
  text = text.trim();
  if (/^\d+$/.test(text)) return Number(text) - startNumber;
  const found = /^(\d{2,}):(\d{2}):(\d{2})[:;](\d{2})$/.exec(text);
  if (!found) throw new Error(`"${text}" is not a frame number or HH:MM:SS:FF`);
  const [hh, mm, ss, ff] = found.slice(1).map(Number);
  const nominal = Math.max(1, Math.round(fps));
  const drop = dropFrame && DROP_RATES.some((r) => Math.abs(fps - r) < 0.01) ? nominal / 15 : 0;
  if (mm > 59 || ss > 59 || ff >= nominal) throw new Error(`"${text}" is not a timecode`);
  if (drop && ss === 0 && ff < drop && mm % 10 !== 0) {
    throw new Error(`"${text}" does not exist in drop-frame`);
  }
  const minutes = hh * 60 + mm;
  return (minutes * 60 + ss) * nominal + ff - drop * (minutes - Math.floor(minutes / 10));
}

function make(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

function button(label, title, className) {
  const node = make("button", `vp-button ${className}`, { type: "button", title });
  node.textContent = label;
  return node;
}

export function render({ model, el }) {
  const box = make("div", "vp-box");
  const stage = make("div", "vp-stage");
  const video = make("video", "vp-video", { preload: "auto", playsinline: "" });
  video.muted = model.muted;
  const still = make("canvas", "vp-still"); // a frame decoded in the page, while paused
  still.hidden = true;
  const ink = make("canvas", "vp-ink");
  const veil = make("div", "vp-veil");
  const reveal = button("Reveal", "show the sensitive picture", "vp-reveal");
  veil.append(make("span", "vp-veil-text"), reveal);
  veil.firstChild.textContent = "Sensitive media";
  const other = make("video", "vp-video vp-compare", { preload: "auto", playsinline: "" });
  other.muted = true;
  const divider = make("div", "vp-divider", { title: "drag to move the wipe" });
  stage.append(video, still, other, divider, ink, veil);
  const scrubber = make("canvas", "vp-scrubber", { height: "28" });
  const bar = make("div", "vp-bar");
  const back10 = button("−10", "10 frames back (Shift+←)", "vp-back10");
  const back = button("−1", "1 frame back (←)", "vp-back");
  const play = button("▶", "play / pause (Space, K)", "vp-play");
  const forward = button("+1", "1 frame forward (→)", "vp-forward");
  const forward10 = button("+10", "10 frames forward (Shift+→)", "vp-forward10");
  const label = make("span", "vp-label");
  const tc = make("span", "vp-timecode");
  const goto = make("input", "vp-goto", { placeholder: "go to timecode or frame", size: "14" });
  const rate = make("select", "vp-rate", { title: "speed" });
  for (const r of [0.25, 0.5, 1, 1.5, 2]) {
    const option = make("option", "", { value: String(r) });
    option.textContent = `${r}×`;
    rate.append(option);
  }
  const loop = button("Loop", "loop (between the in and out points)", "vp-loop");
  const markIn = button("In", "in point (I)", "vp-in");
  const markOut = button("Out", "out point (O)", "vp-out");
  const mute = button("Muted", "sound on / off (M)", "vp-mute");
  const cinema = button("Cinema", "cinema mode, full screen (Shift+F)", "vp-cinema");
  const message = make("span", "vp-message");
  bar.append(back10, back, play, forward, forward10, label, tc, goto, rate, loop, markIn,
    markOut, mute, cinema, message);
  box.append(stage, scrubber, bar);
  el.append(box);

  // -- frames and time -------------------------------------------------------------------
  const count = () => model.times.length;
  const period = () => 1 / (model.fps > 0 ? model.fps : 24);
  const clamp = (i) => Math.min(Math.max(Math.round(i), 0), Math.max(count() - 1, 0));
  // The frame whose presentation time is at or before `t` (a quarter frame of slack for
  // the rounding of reported times).
  function frameAt(t, times = model.times) {
    let lo = 0, hi = times.length - 1;
    if (hi < 0) return 0;
    const slack = period() / 4;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (times[mid] <= t + slack) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  const middleOf = (i, times = model.times) => {
    return i + 1 < times.length ? (times[i] + times[i + 1]) / 2 : times[i] + period() / 2;
  };

  let shown = -1; // the frame confirmed on screen
  let presented = -1; // the frame of the last presented video frame
  let seekingTo = null; // the frame a pending seek goes to
  let seeked = false; // the pending seek's `seeked` event came
  let target = null; // the next frame wanted while a seek is pending
  let fallback = null;
  let reverse = null; // J's reverse shuttle (a stepping timer)
  let lastSent = 0;
  let wanted = null; // the frame a step waits for while its GOP is decoded in the page

  function status() {
    const state = reverse !== null ? "shuttle" : !video.paused ? "playing"
      : seekingTo !== null || wanted !== null ? "seeking" : "settled";
    box.dataset.state = state;
    box.dataset.frame = String(shown);
  }

  function showLabel() {
    const total = count();
    label.textContent = `frame ${shown + model.start_number} / ${total}`;
    tc.textContent = shown >= 0 ? timecode(shown, model.fps || 24, model.drop_frame) : "";
    play.textContent = video.paused && reverse === null ? "▶" : "❚❚";
    play.setAttribute("aria-label", video.paused ? "Play" : "Pause");
    drawScrubber();
    drawInk();
    status();
  }

  function settle(i) {
    shown = i;
    showLabel();
    follow(i);
    if (model.frame !== i) model.frame = i;
    if (decoder !== null) pump(); // decode the GOPs around it while the reviewer looks
  }

  // -- the compared video -------------------------------------------------------------------
  const comparing = () => Boolean(model.compare_src) && model.compare_times.length > 0;
  let otherShown = -1; // the frame the compared video presents
  function otherAt(i) {
    const times = model.compare_times;
    return Math.min(Math.max(i, 0), times.length - 1);
  }
  function showOther(i) {
    otherShown = i;
    box.dataset.compareFrame = String(i);
  }
  // The compared video to the middle of its own frame `i` (clamped to its length).
  function follow(i) {
    if (!comparing() || i < 0 || other.readyState < 1) return;
    if (!other.paused) other.pause();
    const j = otherAt(i);
    const time = middleOf(j, model.compare_times);
    if (otherShown === j && Math.abs(other.currentTime - time) < 1e-3) return;
    other.currentTime = time;
  }
  other.addEventListener("seeked", () => {
    if (other.paused) showOther(frameAt(other.currentTime, model.compare_times));
  });
  function onOtherFrame(_now, metadata) {
    if (comparing()) showOther(frameAt(metadata.mediaTime, model.compare_times));
    other.requestVideoFrameCallback(onOtherFrame);
  }
  other.requestVideoFrameCallback(onOtherFrame);
  function playAlong() {
    if (!comparing() || other.readyState < 1) return;
    other.playbackRate = model.rate;
    other.currentTime = middleOf(otherAt(Math.max(shown, 0)), model.compare_times);
    other.play().catch(() => {}); // muted: a refusal only leaves it paused, re-synced on pause
  }
  function layOut() {
    const on = comparing();
    other.hidden = !on;
    stage.classList.toggle("vp-side", on && model.compare_mode === "side");
    stage.classList.toggle("vp-wipe", on && model.compare_mode === "wipe");
    const wipe = Math.min(Math.max(model.wipe, 0), 1);
    other.style.clipPath = on && model.compare_mode === "wipe" ? `inset(0 0 0 ${wipe * 100}%)` : "";
    divider.style.left = `${wipe * 100}%`;
    box.dataset.compare = on ? model.compare_mode : "off";
    box.dataset.wipe = String(wipe);
    if (video.videoWidth && video.videoHeight) {
      const wide = on && model.compare_mode === "side" ? 2 : 1;
      stage.style.aspectRatio = `${wide * video.videoWidth} / ${video.videoHeight}`;
      box.style.setProperty("--vp-aspect", String((wide * video.videoWidth) / video.videoHeight));
    }
  }
  function loadOther() {
    otherShown = -1;
    delete box.dataset.compareFrame;
    if (other.getAttribute("src") !== model.compare_src) {
      if (model.compare_src) other.src = model.compare_src; else other.removeAttribute("src");
    }
    layOut();
  }
  other.addEventListener("loadedmetadata", () => {
    if (!video.paused) playAlong(); else follow(shown);
  });
  divider.addEventListener("pointerdown", (event) => {
    divider.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  divider.addEventListener("pointermove", (event) => {
    if (!divider.hasPointerCapture(event.pointerId)) return;
    const r = stage.getBoundingClientRect();
    const at = Math.min(Math.max((event.clientX - r.left) / r.width, 0), 1);
    model.wipe = Math.round(at * 1000) / 1000;
  });

  // Show frame `i`: seek to its middle, or retarget the pending seek there.
  function go(i) {
    if (!count()) return;
    i = clamp(i);
    if (!video.paused) stopPlaying();
    if (decoder !== null) {
      want(i);
      return;
    }
    if (seekingTo !== null) {
      target = i === seekingTo ? null : i;
      return;
    }
    if (i === shown && presented === shown) {
      settle(i);
      return;
    }
    issue(i);
  }

  function issue(i) {
    still.hidden = true; // the video is the picture again
    wanted = null;
    seekingTo = i;
    seeked = false;
    video.currentTime = middleOf(i);
    status();
    clearTimeout(fallback);
    // A seek to the frame already presented shows no new frame: `seeked` alone confirms it.
    fallback = setTimeout(() => seeked && seekingTo === i && confirm(frameAt(video.currentTime)), 400);
  }

  function confirm(i) {
    clearTimeout(fallback);
    seekingTo = null;
    if (target !== null && target !== i) {
      const next = target;
      target = null;
      issue(next);
      shown = i;
      showLabel();
      return;
    }
    target = null;
    settle(i);
  }

  function seekDone() {
    if (seekingTo !== null && seeked && presented === seekingTo) confirm(presented);
  }

  video.addEventListener("seeked", () => {
    seeked = true;
    seekDone();
  });

  function onFrame(_now, metadata) {
    presented = frameAt(metadata.mediaTime);
    if (!video.paused) still.hidden = true; // playing from the still's frame: it is shown
    if (!video.paused) playingFrame(presented);
    seekDone();
    video.requestVideoFrameCallback(onFrame);
  }
  video.requestVideoFrameCallback(onFrame);

  // -- steps from frames decoded in the page (WebCodecs) ---------------------------------------
  const KEEP_GOPS = 6; // the GOPs kept around the one shown (72 frames of a 720p proxy: 100 MB)
  let decoder = null; // null: steps seek the video
  let decoderConfig = null;
  let decoderFor = ""; // the proxy and index the decoder was made for
  let gopStarts = []; // each GOP's first packet (a keyframe), in decoding order
  let gopOf = []; // frame -> the number of its GOP
  const decoded = new Map(); // GOP number -> Map(frame -> VideoFrame)
  let decoding = null; // the GOP being decoded: { gop, frames }
  let quiet = null; // the timer after which the video follows the still
  let epoch = 0; // bumped when the decoder is dropped: late work of an older one is ignored
  const aborted = () => Object.assign(new Error("superseded"), { name: "AbortError" });

  function closeAll(frames) {
    for (const frame of frames.values()) frame.close();
  }
  function stopDecoding() {
    epoch += 1;
    if (decoder !== null && decoder.state !== "closed") decoder.close();
    decoder = decoding = null;
    for (const frames of decoded.values()) closeAll(frames);
    decoded.clear();
    wanted = null;
    clearTimeout(quiet);
    still.hidden = true;
  }
  // The page cannot decode this proxy after all: steps seek the video from now on, and the
  // frame a step waits for is sought, not lost.
  function seekInstead(error) {
    const goal = wanted ?? shown;
    stopDecoding();
    say(`steps seek the video (${error.message})`);
    if (goal >= 0) issue(goal);
  }
  function makeDecoder() {
    const made = new VideoDecoder({
      output: (frame) => {
        const job = decoding;
        if (job === null) { frame.close(); return; }
        const i = frameAt(frame.timestamp / 1e6);
        if (job.frames.has(i)) job.frames.get(i).close();
        job.frames.set(i, frame);
      },
      error: (error) => {
        if (made === decoder) seekInstead(error);
      },
    });
    made.configure(decoderConfig);
    return made;
  }
  async function startDecoding() {
    const index = model.packets;
    const wantedFor = index && model.src && count() ? `${model.src} ${index.packets.length}` : "";
    if (wantedFor === decoderFor) return;
    // The frame a step waits for, or the one on the still, is sought by the video instead.
    const goal = wanted ?? (still.hidden ? null : shown);
    stopDecoding();
    decoderFor = wantedFor;
    if (goal !== null && goal >= 0 && count()) issue(clamp(goal));
    if (!wantedFor || typeof VideoDecoder === "undefined") return;
    const config = {
      codec: index.codec,
      description: Uint8Array.from(atob(index.description), (c) => c.charCodeAt(0)),
      hardwareAcceleration: "prefer-software", // CPU frames: many may be kept without stalling
      optimizeForLatency: true,
    };
    const mine = epoch;
    try {
      if (!(await VideoDecoder.isConfigSupported(config)).supported) return;
    } catch {
      return;
    }
    if (mine !== epoch) return;
    gopStarts = [];
    gopOf = new Array(count()).fill(0);
    index.packets.forEach(([, , key, pts], n) => {
      if (key) gopStarts.push(n);
      gopOf[frameAt(pts)] = gopStarts.length - 1;
    });
    decoderConfig = config;
    decoder = makeDecoder();
    pump();
  }
  // The next GOP to decode: the wanted frame's, else the nearest not kept around the one shown.
  function nextGop() {
    if (wanted !== null && !decoded.has(gopOf[wanted])) return gopOf[wanted];
    if (!video.paused || shown < 0) return null;
    const here = gopOf[shown];
    for (const g of [here, here + 1, here - 1, here + 2, here - 2]) {
      if (g >= 0 && g < gopStarts.length && !decoded.has(g)) return g;
    }
    return null;
  }
  async function decodeGop(job) {
    const packets = model.packets.packets;
    const first = gopStarts[job.gop];
    const end = gopStarts[job.gop + 1] ?? packets.length;
    const from = packets[first][0];
    let to = from;
    for (let n = first; n < end; n++) to = Math.max(to, packets[n][0] + packets[n][1]);
    const response = await fetch(model.src, { headers: { Range: `bytes=${from}-${to - 1}` } });
    if (!response.ok) throw new Error(`the proxy answered ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (decoding !== job) throw aborted();
    const offset = response.status === 206 ? from : 0; // 200: the whole file came
    for (let n = first; n < end; n++) {
      const [pos, size, key, pts] = packets[n];
      decoder.decode(new EncodedVideoChunk({
        type: key ? "key" : "delta",
        timestamp: Math.round(pts * 1e6),
        data: bytes.subarray(pos - offset, pos - offset + size),
      }));
    }
    await decoder.flush();
  }
  async function pump() {
    if (decoder === null || decoding !== null) return;
    const gop = nextGop();
    if (gop === null) return;
    const job = { gop, frames: new Map() };
    decoding = job;
    const mine = epoch;
    try {
      await decodeGop(job);
    } catch (error) {
      closeAll(job.frames);
      if (mine !== epoch || decoding !== job) return; // dropped or superseded: not ours
      decoding = null;
      if (error.name !== "AbortError") seekInstead(error);
      return;
    }
    if (mine !== epoch || decoding !== job) { closeAll(job.frames); return; }
    decoding = null;
    decoded.set(gop, job.frames);
    keepNearest();
    if (wanted !== null && decoded.has(gopOf[wanted])) want(wanted);
    else pump();
  }
  function keepNearest() {
    const here = gopOf[Math.max(wanted ?? shown, 0)];
    while (decoded.size > KEEP_GOPS) {
      let far = null;
      for (const g of decoded.keys()) if (far === null || Math.abs(g - here) > Math.abs(far - here)) far = g;
      closeAll(decoded.get(far));
      decoded.delete(far);
    }
  }
  // Draw frame `i` on the still from the kept frames; whether it was there.
  function showStill(i) {
    const frame = decoded.get(gopOf[i])?.get(i);
    if (!frame) return false;
    if (still.width !== frame.displayWidth || still.height !== frame.displayHeight) {
      still.width = frame.displayWidth;
      still.height = frame.displayHeight;
    }
    still.getContext("2d").drawImage(frame, 0, 0, still.width, still.height);
    still.dataset.frame = String(i);
    still.hidden = false;
    return true;
  }
  // A step while paused: frame `i` on the still now if it is kept, else once its GOP is decoded
  // (a GOP being decoded for another frame is dropped for it).
  function want(i) {
    seekingTo = target = null;
    clearTimeout(fallback);
    if (showStill(i)) {
      wanted = null;
      settle(i);
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        if (video.paused && !still.hidden && shown === i) video.currentTime = middleOf(i);
      }, 250);
      pump();
      return;
    }
    wanted = i;
    status();
    if (decoding !== null && decoding.gop !== gopOf[i]) {
      decoding = null; // its flush rejects; the decoder starts on the wanted GOP
      decoder.reset();
      decoder.configure(decoderConfig);
    }
    pump();
  }

  // -- playback --------------------------------------------------------------------------
  const inPoint = () => (model.in_point ?? 0);
  const outPoint = () => (model.out_point ?? count() - 1);

  function playingFrame(i) {
    shown = i;
    if (i >= outPoint() && (model.out_point !== null || model.loop)) {
      if (model.loop) {
        video.currentTime = middleOf(inPoint());
        if (!other.paused) other.currentTime = middleOf(otherAt(inPoint()), model.compare_times);
      } else {
        stopPlaying();
        return;
      }
    }
    const now = performance.now();
    if (now - lastSent > 250) { // the server follows playback four times a second
      lastSent = now;
      model.frame = i;
    }
    showLabel();
  }

  function startPlaying() {
    stopReverse();
    if (!count()) return;
    wanted = null;
    clearTimeout(quiet);
    if (!still.hidden && Math.abs(video.currentTime - middleOf(Math.max(shown, 0))) > 1e-3) {
      video.currentTime = middleOf(Math.max(shown, 0)); // from the frame the still shows
    }
    if (shown >= outPoint()) video.currentTime = middleOf(model.loop ? inPoint() : 0);
    seekingTo = target = null;
    video.playbackRate = model.rate;
    video.play().catch((error) => say(`cannot play: ${error.message}`));
    playAlong();
    if (!model.playing) model.playing = true;
    showLabel();
  }

  // Pause on the frame last presented, seeking to its middle so picture and number agree.
  function stopPlaying() {
    const wasPlaying = !video.paused;
    video.pause();
    if (!other.paused) other.pause();
    if (model.playing) model.playing = false;
    if (wasPlaying) {
      const at = presented >= 0 ? presented : frameAt(video.currentTime);
      seekingTo = null;
      issue(at);
    }
    showLabel();
  }

  function togglePlay() {
    if (video.paused && reverse === null) startPlaying();
    else { stopReverse(); stopPlaying(); }
  }

  video.addEventListener("ended", () => {
    if (!other.paused) other.pause();
    if (model.playing) model.playing = false;
    issue(count() - 1);
  });

  // J: reverse by stepping, faster at each press; L: forward, faster at each press.
  let reverseSpeed = 0;
  function shuttleBack() {
    stopPlaying();
    reverseSpeed = Math.min(reverseSpeed ? reverseSpeed * 2 : 1, 4);
    clearInterval(reverse);
    reverse = setInterval(() => {
      if (seekingTo === null && wanted === null) {
        if (shown <= 0) stopReverse(); else go(shown - 1);
      }
    }, 1000 * period() / reverseSpeed);
    showLabel();
  }
  function stopReverse() {
    clearInterval(reverse);
    reverse = null;
    reverseSpeed = 0;
  }
  function shuttleForward() {
    if (!video.paused) {
      model.rate = Math.min(model.rate * 2, 2);
    } else {
      model.rate = 1;
      startPlaying();
    }
  }

  // -- the scrubber ------------------------------------------------------------------------
  function drawScrubber() {
    const width = scrubber.clientWidth || 600;
    if (scrubber.width !== width) scrubber.width = width;
    const g = scrubber.getContext("2d");
    const total = Math.max(count(), 1);
    const x = (i) => (i / total) * width;
    g.clearRect(0, 0, width, 28);
    g.fillStyle = "#2b2f36";
    g.fillRect(0, 6, width, 16);
    if (model.in_point !== null || model.out_point !== null) {
      g.fillStyle = "rgba(80, 160, 255, 0.35)";
      g.fillRect(x(inPoint()), 6, x(outPoint() + 1) - x(inPoint()), 16);
    }
    for (const marker of model.markers) {
      const at = x(marker.frame);
      if (marker.kind === "segment") {
        g.fillStyle = "#6b7280";
        g.fillRect(at, 18, 2, 4);
      } else if (marker.kind === "seam") {
        g.fillStyle = "#f59e0b";
        g.fillRect(at - 1, 4, 2, 20);
      } else {
        g.fillStyle = "#ff3b30";
        g.beginPath();
        g.moveTo(at - 4, 0); g.lineTo(at + 4, 0); g.lineTo(at, 6);
        g.fill();
      }
    }
    if (shown >= 0) {
      g.fillStyle = "#ffffff";
      g.fillRect(x(shown), 2, Math.max(2, x(1)), 24);
    }
  }
  const scrubTo = (event) => {
    const box = scrubber.getBoundingClientRect();
    go(Math.floor(((event.clientX - box.left) / box.width) * count()));
  };
  scrubber.addEventListener("pointerdown", (event) => {
    scrubber.setPointerCapture(event.pointerId);
    scrubTo(event);
  });
  scrubber.addEventListener("pointermove", (event) => {
    if (scrubber.hasPointerCapture(event.pointerId)) scrubTo(event);
  });

  // -- drawing -------------------------------------------------------------------------------
  let stroke = null;
  function fitInk() {
    const { width, height } = stage.getBoundingClientRect();
    if (ink.width !== Math.round(width) || ink.height !== Math.round(height)) {
      ink.width = Math.round(width);
      ink.height = Math.round(height);
    }
  }
  function paint(g, shape, w, h) {
    g.strokeStyle = g.fillStyle = shape.color;
    g.lineWidth = Math.max(1, (shape.width ?? 0.004) * w);
    g.lineCap = g.lineJoin = "round";
    const p = ([x, y]) => [x * w, y * h];
    g.beginPath();
    if (shape.kind === "pen") {
      shape.points.forEach((point, n) => (n ? g.lineTo(...p(point)) : g.moveTo(...p(point))));
      g.stroke();
    } else if (shape.kind === "rect") {
      const [x0, y0] = p(shape.from), [x1, y1] = p(shape.to);
      g.strokeRect(x0, y0, x1 - x0, y1 - y0);
    } else if (shape.kind === "ellipse") {
      const [x0, y0] = p(shape.from), [x1, y1] = p(shape.to);
      g.ellipse((x0 + x1) / 2, (y0 + y1) / 2, Math.abs(x1 - x0) / 2, Math.abs(y1 - y0) / 2,
        0, 0, 2 * Math.PI);
      g.stroke();
    } else if (shape.kind === "arrow") {
      const [x0, y0] = p(shape.from), [x1, y1] = p(shape.to);
      const angle = Math.atan2(y1 - y0, x1 - x0), head = 4 * g.lineWidth + 6;
      g.moveTo(x0, y0); g.lineTo(x1, y1);
      g.moveTo(x1, y1); g.lineTo(x1 - head * Math.cos(angle - 0.5), y1 - head * Math.sin(angle - 0.5));
      g.moveTo(x1, y1); g.lineTo(x1 - head * Math.cos(angle + 0.5), y1 - head * Math.sin(angle + 0.5));
      g.stroke();
    } else if (shape.kind === "text") {
      g.font = `${Math.max(8, (shape.size ?? 0.04) * w)}px sans-serif`;
      g.textBaseline = "top";
      g.fillText(shape.text, ...p(shape.at));
    }
  }
  function drawInk() {
    fitInk();
    const g = ink.getContext("2d");
    g.clearRect(0, 0, ink.width, ink.height);
    if (model.blurred || shown < 0) return;
    const drawings = model.overlays.filter((o) => o.frame === shown).map((o) => o.drawing);
    if (model.drawing && model.drawing.frame === shown) drawings.push(model.drawing);
    for (const drawing of drawings) {
      for (const shape of drawing.shapes || []) paint(g, shape, ink.width, ink.height);
    }
    if (stroke) paint(g, stroke, ink.width, ink.height);
    ink.dataset.frame = String(shown);
    ink.dataset.shapes = String(drawings.reduce((n, d) => n + (d.shapes || []).length, 0));
  }
  const at = (event) => {
    const r = ink.getBoundingClientRect();
    const norm = (v) => Math.round(Math.min(Math.max(v, 0), 1) * 10000) / 10000;
    return [norm((event.clientX - r.left) / r.width), norm((event.clientY - r.top) / r.height)];
  };
  function keep(shape) {
    const current = model.drawing && model.drawing.frame === shown ? model.drawing : null;
    model.drawing = {
      version: 1,
      frame: shown,
      width: video.videoWidth,
      height: video.videoHeight,
      shapes: [...(current ? current.shapes : []), shape],
    };
    drawInk();
  }
  ink.addEventListener("pointerdown", (event) => {
    if (model.tool === "none" || shown < 0) return;
    if (!video.paused) stopPlaying();
    const point = at(event);
    if (model.tool === "text") {
      placeText(point);
      return;
    }
    ink.setPointerCapture(event.pointerId);
    stroke = model.tool === "pen"
      ? { kind: "pen", points: [point], color: model.color, width: 0.004 }
      : { kind: model.tool, from: point, to: point, color: model.color, width: 0.004 };
  });
  ink.addEventListener("pointermove", (event) => {
    if (!stroke) return;
    if (stroke.kind === "pen") stroke.points.push(at(event)); else stroke.to = at(event);
    drawInk();
  });
  ink.addEventListener("pointerup", () => {
    if (!stroke) return;
    const done = stroke;
    stroke = null;
    keep(done);
  });
  function placeText(point) {
    const field = make("input", "vp-text-field", { placeholder: "text, then Enter" });
    field.style.left = `${point[0] * 100}%`;
    field.style.top = `${point[1] * 100}%`;
    stage.append(field);
    field.focus();
    field.addEventListener("keydown", (event) => {
      event.stopPropagation();
      if (event.key === "Enter" && field.value.trim()) {
        keep({ kind: "text", at: point, text: field.value.trim(), color: model.color, size: 0.04 });
        field.remove();
      } else if (event.key === "Escape") field.remove();
    });
  }

  // -- controls and keys -------------------------------------------------------------------
  function say(text) {
    message.textContent = text;
  }
  const following = () => model.following;
  const base = () => wanted ?? target ?? seekingTo ?? shown;
  const step = (delta) => { stopReverse(); go(base() + delta); };
  back10.onclick = () => step(-10);
  back.onclick = () => step(-1);
  forward.onclick = () => step(+1);
  forward10.onclick = () => step(+10);
  play.onclick = () => togglePlay();
  rate.onchange = () => { model.rate = Number(rate.value); };
  loop.onclick = () => { model.loop = !model.loop; };
  markIn.onclick = () => { model.in_point = model.in_point === shown ? null : shown; };
  markOut.onclick = () => { model.out_point = model.out_point === shown ? null : shown; };
  mute.onclick = () => { model.muted = !model.muted; };
  cinema.onclick = () => toggleCinema();
  reveal.onclick = () => { model.blurred = false; };
  goto.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (event.key !== "Enter") return;
    try {
      const frame = parseTimecode(goto.value, model.fps || 24, model.drop_frame, model.start_number);
      if (frame < 0 || frame >= count()) throw new Error(`the take has frames ${model.start_number}–${model.start_number + count() - 1}`);
      say("");
      go(frame);
      goto.blur();
    } catch (error) {
      say(error.message);
    }
  });
  function toggleCinema() {
    if (document.fullscreenElement) document.exitFullscreen();
    else box.requestFullscreen().catch((error) => say(`no cinema mode: ${error.message}`));
  }

  const editable = (node) =>
    node && (node.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(node.tagName));
  const KEYS = {
    ArrowLeft: (e) => step(e.shiftKey ? -10 : -1),
    ArrowRight: (e) => step(e.shiftKey ? 10 : 1),
    " ": () => togglePlay(),
    j: () => shuttleBack(),
    k: () => { stopReverse(); stopPlaying(); },
    l: () => shuttleForward(),
    i: () => markIn.onclick(),
    o: () => markOut.onclick(),
    m: () => mute.onclick(),
    F: () => toggleCinema(),
  };
  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (editable(event.composedPath()[0]) || !box.isConnected || !box.checkVisibility()) return;
    const action = KEYS[event.key];
    if (!action || model.keys_taken.includes(event.key) || following() || !count()) return;
    if (event.repeat && !event.key.startsWith("Arrow")) return; // hold to scrub: arrows only
    event.preventDefault();
    action(event);
  }
  document.addEventListener("keydown", onKey);

  // -- touch ---------------------------------------------------------------------------------
  // Fingers and pens on the picture, while no drawing tool is active (a drawing tool's ink
  // canvas takes them instead): a tap toggles play / pause; a horizontal swipe steps
  // frames, right forward and left back like the scrubber, one frame for every STEP_PX of
  // travel, stepped as the finger moves (so a long swipe scrubs), and a short swipe that
  // never reaches STEP_PX still steps one frame when the finger lifts. A mostly vertical
  // move is left to the browser, which scrolls the page (the stage's touch-action is
  // `pan-y pinch-zoom`, so a sideways swipe never scrolls it); a second finger, or the
  // browser taking the move (pointercancel), ends the gesture.
  // The mouse keeps its clicks; the veil's Reveal, the wipe's divider and a text field
  // keep their own events.
  const STEP_PX = 24; // horizontal travel per frame stepped
  const SLOP_PX = 10; // a touch that moves less than this is a tap
  const TAP_MS = 500; // ... and lifts within this (a longer press is not a tap)
  let gesture = null; // { id, x, y, at, swiping, stepped }
  const own = (node) => veil.contains(node) || node === divider ||
    (node.classList && node.classList.contains("vp-text-field"));
  stage.style.touchAction = "pan-y pinch-zoom";
  // A drawing tool's strokes go any way without scrolling the page (the ink canvas is hit
  // only while a tool is active: it lets events through otherwise).
  ink.style.touchAction = "none";
  stage.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse") return;
    gesture = null;
    if (!event.isPrimary) return; // a second finger: a pinch, the browser's
    if (model.tool !== "none" || following() || !count() || own(event.target)) return;
    gesture = { id: event.pointerId, x: event.clientX, y: event.clientY,
      at: performance.now(), swiping: false, stepped: 0 };
  });
  stage.addEventListener("pointermove", (event) => {
    if (gesture === null || event.pointerId !== gesture.id) return;
    const dx = event.clientX - gesture.x, dy = event.clientY - gesture.y;
    if (!gesture.swiping) {
      if (Math.abs(dy) > SLOP_PX && Math.abs(dy) >= Math.abs(dx)) { gesture = null; return; }
      if (Math.abs(dx) <= SLOP_PX) return;
      gesture.swiping = true;
    }
    const steps = Math.trunc(dx / STEP_PX);
    if (steps !== gesture.stepped) {
      step(steps - gesture.stepped);
      gesture.stepped = steps;
    }
  });
  stage.addEventListener("pointerup", (event) => {
    if (gesture === null || event.pointerId !== gesture.id) return;
    const done = gesture;
    gesture = null;
    const dx = event.clientX - done.x, dy = event.clientY - done.y;
    if (done.swiping) {
      if (done.stepped === 0) step(Math.sign(dx));
    } else if (Math.hypot(dx, dy) <= SLOP_PX && performance.now() - done.at <= TAP_MS) {
      togglePlay();
    }
  });
  stage.addEventListener("pointercancel", (event) => {
    if (gesture !== null && event.pointerId === gesture.id) gesture = null;
  });

  // -- from the server -----------------------------------------------------------------------
  function load() {
    stopReverse();
    seekingTo = target = null;
    shown = presented = -1;
    stopDecoding(); // nothing of the previous take is waited for
    decoderFor = "";
    if (video.getAttribute("src") !== model.src) {
      if (model.src) video.src = model.src; else video.removeAttribute("src");
    }
    startDecoding();
    showLabel();
  }
  video.addEventListener("loadedmetadata", () => {
    layOut();
    issue(clamp(model.frame));
  });
  video.addEventListener("error", () => say("the video cannot be played in this browser"));
  model.on("src", load);
  model.on("frame", () => {
    if (model.frame !== shown && model.frame !== base()) go(model.frame);
  });
  model.on("playing", () => {
    if (model.playing && video.paused) startPlaying();
    else if (!model.playing && !video.paused) stopPlaying();
  });
  model.on("rate", () => {
    video.playbackRate = model.rate;
    other.playbackRate = model.rate;
    rate.value = String(model.rate);
  });
  model.on("muted", () => { video.muted = model.muted; mute.textContent = model.muted ? "Muted" : "Sound"; });
  const flags = () => {
    loop.classList.toggle("vp-on", model.loop);
    stage.classList.toggle("vp-blurred", model.blurred);
    ink.classList.toggle("vp-drawing", model.tool !== "none");
    ink.dataset.tool = model.tool;
    bar.classList.toggle("vp-following", following());
    mute.hidden = !model.has_audio;
    showLabel();
  };
  for (const name of ["loop", "blurred", "tool", "following", "presenter", "has_audio",
    "in_point", "out_point", "markers", "overlays", "drawing", "start_number", "drop_frame"]) {
    model.on(name, flags);
  }
  model.on("times", () => { startDecoding(); showLabel(); });
  model.on("packets", startDecoding);
  model.on("compare_src", loadOther);
  model.on("compare_times", () => { layOut(); follow(shown); });
  for (const name of ["compare_mode", "wipe"]) model.on(name, layOut);
  const resized = new ResizeObserver(() => { drawScrubber(); drawInk(); });
  resized.observe(stage);
  model.on("remove", () => {
    document.removeEventListener("keydown", onKey);
    resized.disconnect();
    stopReverse();
    clearTimeout(fallback);
    stopDecoding();
    video.pause();
    other.pause();
  });
  rate.value = String(model.rate);
  mute.textContent = model.muted ? "Muted" : "Sound";
  flags();
  load();
  loadOther();
  // Exposed for the acceptance test and the benchmark: the frame shown and its state.
  box.player = { go, frameAt, timecode, state: () => box.dataset.state, shown: () => shown,
    compareShown: () => otherShown,
    inside: () => ({ shown, presented, seekingTo, target, wanted, seeked, decoding: decoding?.gop ?? null,
      decoder: decoder?.state ?? null, kept: [...decoded.keys()], still: !still.hidden,
      time: video.currentTime, paused: video.paused, ready: video.readyState }) };
}
