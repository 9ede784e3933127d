// The Tunesmith player's picture (ui/player.py): the notes, a playhead, play/pause.
// It drives the Streamlit <audio> in the same keyed container and hides that element's own
// controls once it runs; without this script the page still has a working player.
//
// The notes are drawn once; the playhead and the tint over the part played are moved by the
// browser's compositor (a Web Animation of `transform` over the time left), checked against
// the audio a few times a second. Redrawing the picture every frame instead cost Chromium a
// third of a core while a tune played (measured on the 2-core test machine).

const PLAY = 'M8 5v14l11-7z'; // the Material icons' play_arrow and pause, drawn inline
const PAUSE = 'M6 19h4V5H6v14zm8-14v14h4V5h-4z';
const CHECK_MS = 250; // how often the picture looks at the audio
const DRIFT_S = 0.1; // a playhead further off than this is put right (a seek, a stall)
const MAX_WAIT_FRAMES = 120; // about 2 s for the new tune's <audio> to arrive
// Tunes this tab has started already: a rerun or a return to the page must not replay one.
const started = (window.__tunesmithStarted = window.__tunesmithStarted || new Set());

const icon = (path) => `<svg viewBox="0 0 24 24" aria-hidden="true"><path d="${path}"/></svg>`;

function build(parent) {
  const root = document.createElement('div');
  root.className = 'tsm-player';
  root.innerHTML = `
    <button class="tsm-toggle" type="button" aria-label="Play">${icon(PLAY)}</button>
    <div class="tsm-roll" title="Click to jump there">
      <svg preserveAspectRatio="none">
        <g class="tsm-notes"></g>
        <line class="tsm-seam" y1="0" vector-effect="non-scaling-stroke"/>
      </svg>
      <div class="tsm-played"></div>
      <div class="tsm-track"><div class="tsm-head"></div></div>
      <span class="tsm-seam-label"></span>
      <span class="tsm-time"></span>
      <button class="tsm-start" type="button">${icon(PLAY)}<span>Play</span></button>
    </div>`;
  parent.appendChild(root);
  return root;
}

// The notes as bars: x in seconds, y the pitch, high notes at the top; in a continuation the
// tune it continued is grey, and the seam a dashed line with its words.
function draw(root, data) {
  const [low, high] = data.range;
  const rows = high - low + 3;
  const seamS = data.seam_s;
  const svg = root.querySelector('.tsm-roll svg');
  svg.setAttribute('height', data.height);
  svg.setAttribute('viewBox', `0 0 ${data.total_s} ${rows}`);
  root.querySelector('.tsm-notes').innerHTML = data.notes
    .map(([start, end, pitch]) => {
      const width = Math.max(end - start, 0.02);
      const before = seamS !== null && start < seamS ? ' class="tsm-before"' : '';
      return `<rect${before} x="${start}" y="${high + 1 - pitch}" width="${width}" height="0.8"/>`;
    })
    .join('');
  const seam = root.querySelector('.tsm-seam');
  const label = root.querySelector('.tsm-seam-label');
  seam.style.display = label.style.display = seamS === null ? 'none' : '';
  seam.setAttribute('x1', seamS || 0);
  seam.setAttribute('x2', seamS || 0);
  seam.setAttribute('y2', rows);
  label.textContent = seamS === null ? '' : data.seam_label;
  const at = (seamS || 0) / data.total_s;
  label.style.left = `${at * 100}%`;
  label.style.transform = at > 0.6 ? 'translateX(calc(-100% - 0.6rem))' : ''; // kept in sight
  if (data.before_color) root.style.setProperty('--tsm-before', data.before_color);
}

function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

export default function (component) {
  const { data, parentElement } = component;
  const box = parentElement.closest(`.st-key-${data.container}`);
  const audio = () => (box ? box.querySelector('audio') : null);
  const root = parentElement.querySelector('.tsm-player') || build(parentElement);
  if (root.dataset.id !== data.id) {
    draw(root, data);
    root.dataset.id = data.id;
    root.classList.remove('tsm-blocked');
  }
  if (data.accent) root.style.setProperty('--tsm-accent', data.accent);
  if (box) box.classList.add('tsm-enhanced');
  const total = (element) => (element && element.duration > 0 ? element.duration : data.total_s);

  const play = async () => {
    const element = audio();
    if (!element) return;
    try {
      await element.play();
      root.classList.remove('tsm-blocked');
    } catch (error) {
      console.warn('tunesmith player:', error.name, error.message);
      // The browser wants a tap on the page itself (Safari, iPhones): offer one big button.
      if (error.name === 'NotAllowedError') root.classList.add('tsm-blocked');
    }
  };
  const toggle = root.querySelector('.tsm-toggle');
  toggle.onclick = () => {
    const element = audio();
    if (element && !element.paused) element.pause();
    else play();
  };
  root.querySelector('.tsm-start').onclick = play;
  root.querySelector('.tsm-roll').onclick = (event) => {
    const element = audio();
    if (!element || event.target.closest('.tsm-start')) return;
    const bounds = event.currentTarget.getBoundingClientRect();
    element.currentTime = ((event.clientX - bounds.left) / bounds.width) * total(element);
    check();
  };

  // The playhead and the tint: each an animation from where the audio is to the end, run
  // at the audio's pace while it plays, held still while it is paused.
  const moving = [
    [root.querySelector('.tsm-track'), (f) => `translateX(${f * 100}%)`],
    [root.querySelector('.tsm-played'), (f) => `scaleX(${f})`],
  ];
  let shown = { at: 0, paused: null, src: null, since: 0 };
  const place = (element) => {
    const length = total(element);
    const now = element ? Math.min(element.currentTime, length) : 0;
    const paused = !element || element.paused;
    for (const [part, transform] of moving) {
      part.getAnimations().forEach((animation) => animation.cancel());
      part.style.transform = transform(now / length);
      if (!paused) {
        const frames = [{ transform: transform(now / length) }, { transform: transform(1) }];
        const leftMs = ((length - now) * 1000) / (element.playbackRate || 1);
        part.animate(frames, { duration: Math.max(leftMs, 1), easing: 'linear', fill: 'forwards' });
      }
    }
    shown = { at: now, paused, src: element ? element.src : null, since: performance.now() };
  };
  const time = root.querySelector('.tsm-time');
  const check = () => {
    const element = audio();
    const now = element ? element.currentTime : 0;
    const paused = !element || element.paused;
    const expected = shown.paused ? shown.at : shown.at + (performance.now() - shown.since) / 1000;
    const src = element ? element.src : null;
    if (paused !== shown.paused || src !== shown.src || Math.abs(expected - now) > DRIFT_S) {
      place(element);
    }
    if (toggle.dataset.paused !== String(paused)) {
      toggle.dataset.paused = String(paused);
      toggle.innerHTML = icon(paused ? PLAY : PAUSE);
      toggle.setAttribute('aria-label', paused ? 'Play' : 'Pause');
      if (!paused) root.classList.remove('tsm-blocked');
    }
    time.textContent = `${clock(now)} / ${clock(total(element))}`;
  };

  // The new tune's <audio> may arrive a frame after this call: start it once it holds a
  // source this player has not started before.
  if (data.autoplay && !started.has(data.id)) {
    started.add(data.id);
    let frames = 0;
    const startWhenReady = () => {
      const element = audio();
      if (element && element.src && element.src !== root.dataset.startedSrc) {
        root.dataset.startedSrc = element.src;
        play().then(check);
      } else if (frames++ < MAX_WAIT_FRAMES) {
        requestAnimationFrame(startWhenReady);
      }
    };
    startWhenReady();
  }

  clearInterval(root._timer || 0); // the check of this player's previous run
  check();
  root._timer = setInterval(check, CHECK_MS);
  return () => clearInterval(root._timer);
}
