// The app's chart element: one plotly.js plot per chart, kept across reruns and updated in place.
// pages/_chart.py mounts it (and explains why); this module is served by Streamlit's static file serving
// and imported once per browser tab. Being the app's one piece of code in the page, it also keeps the page's own
// changes of the address from piling up in the browser's history (addressInPlace, below).
let PLOTLY_URL = null;
let THEME_URL = null;
// A frame in the corners, drawn in plotly's 1000-unit icon box.
const FULLSCREEN = {width: 1000, height: 1000, path: "M0 0h400v120H120v280H0z M600 0h400v400H880V120H600z M0 600h120v280h280v120H0z M880 600h120v400H600V880h280z"};

function plotly() {
  if (window.Plotly && window.Plotly.react) return Promise.resolve(window.Plotly);
  if (!window.__vlbPlotly) {
    window.__vlbPlotly = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = new URL(PLOTLY_URL, document.baseURI).href;
      s.async = true;
      s.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error('no Plotly')));
      s.onerror = () => { window.__vlbPlotly = null; reject(new Error('plotly.js did not load')); };
      document.head.appendChild(s);
    });
  }
  return window.__vlbPlotly;
}

// Streamlit's chart theme, light and dark (the server's vizcore/figures/streamlit_theme.json): fetched once,
// so a chart's message names its theme instead of carrying it
function themes() {
  if (!window.__vlbThemes) {
    window.__vlbThemes = fetch(new URL(THEME_URL, document.baseURI).href)
      .then((r) => { if (!r.ok) throw new Error('chart theme: HTTP ' + r.status); return r.json(); })
      .catch((err) => { window.__vlbThemes = null; throw err; });
  }
  return window.__vlbThemes;
}

function figureOf(data) {
  if (typeof data === 'string') return JSON.parse(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return JSON.parse(new TextDecoder().decode(data));
  return data;
}

function fullscreenSize(gd, on) {
  const P = window.Plotly;
  if (!P || !gd._fullLayout) return;
  if (on) P.relayout(gd, {width: window.innerWidth, height: window.innerHeight});
  else P.relayout(gd, {width: null, height: gd.__vlbHeight});
}

// "dark" or "light": the page's background as the theme has it now (the user or the system may switch it)
let colours = null;                           // a canvas context, which writes any CSS colour as #rrggbb
function liveTheme(el) {
  const bg = getComputedStyle(el).getPropertyValue('--st-background-color').trim();
  if (!bg) return null;
  const ctx = colours || (colours = document.createElement('canvas').getContext('2d'));
  ctx.fillStyle = '#000000';
  ctx.fillStyle = bg;
  const hex = ctx.fillStyle;
  if (!/^#[0-9a-f]{6}$/i.test(hex)) return null;
  const [r, g, b] = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128 ? 'dark' : 'light';
}

// before, after: the drawn figure's layout and the new one's (layoutParts).
// The shapes to draw when a new figure differs from the drawn one only in layout.shapes (the lines and
// markers drawn over the data: a "current" line, a marked x), else null. Plotly.react would draw such a
// figure again from scratch, its data arrays being new objects; Plotly.relayout moves the shapes alone.
// Only when no shape, before or after, refers to an axis plotly ranges itself: a shape widens an
// autoranged axis on a full draw and not on a relayout, so there the two would differ.
function shapesOnly(gd, before, after) {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of keys) {
    if (k !== 'shapes' && before[k] !== after[k]) return null;
  }
  const shapes = JSON.parse(after.shapes || '[]');
  for (const sh of [...JSON.parse(before.shapes || '[]'), ...shapes]) {
    for (const [ref, dflt] of [[sh.xref, 'x'], [sh.yref, 'y']]) {
      const r = ref || dflt;
      if (r === 'paper' || / domain$/.test(r)) continue;
      const ax = gd._fullLayout[r.replace(/^([xy])/, '$1axis')];
      if (!ax || ax.autorange !== false) return null;
    }
  }
  return shapes;
}

// Stop the frames plotly is playing on this plot (EM's Play), if any. A new figure from the server (a step button,
// the half-step slider, another view) is what the page now shows: before, the animation went on over it, frame
// after frame, while the numbers beside it showed the step that was clicked; and the animation loop of a figure
// replaced in mid-play outlived it, so that leaving the page later threw on every frame
// (tests/test_browser_em.py). Plotly's own Pause (Plotly.animate with [null], mode "immediate") would reject
// the Play button's promise, an error in the console; this empties plotly's frame queue and cancels its loop, so
// that promise is simply never settled. The fields are those of the plotly.js bundled in static/ (its version is
// checked by tests/test_static.py).
function stopAnimation(gd) {
  const tr = gd._transitionData;
  if (!tr) return;
  if (Array.isArray(tr._frameQueue)) tr._frameQueue.length = 0;
  if (tr._animationRaf) { window.cancelAnimationFrame(tr._animationRaf); tr._animationRaf = null; }
}

// a layout as received, each top-level part as JSON text: plotly changes the objects it is handed
function layoutParts(layout) {
  const parts = {};
  for (const k of Object.keys(layout)) parts[k] = JSON.stringify(layout[k]);
  return parts;
}

// draw the figure a chart was handed while out of view, if any
function drawPending(gd) {
  if (gd.__vlbPending) { const draw = gd.__vlbPending; gd.__vlbPending = null; draw(); }
}

// before the page is printed: a print shows every chart
function drawAllPending() {
  for (const gd of document.querySelectorAll('div.vlb-chart')) drawPending(gd);
}

// The address records the view (a link to copy), not an undo list. Streamlit writes a value the user moves with
// history.replaceState, but an address the server changed (a bound widget the page set itself: elbo_gap's q
// following t, EM's step buttons, variational's fit buttons; the keys pages/_url_state.py mirrors) with
// history.pushState, one entry per changed parameter, each a half-updated view. Back then walked through those
// instead of leaving the page (tests/test_browser_address.py). Here a change of the query alone replaces the
// current entry; a new page (another path) still gets an entry of its own.
// Leaving a page by a link, Streamlit first writes the next page's query (the old page's parameters dropped)
// under the old path, then pushes the new path. Replaced in place, that write would wipe the old page's view from
// its entry, and Back would return to its defaults; so from a click on a link to another page until the push,
// the entry is given back the address it had when the link was clicked.
// Installed once per tab, by the first chart element (pages/_chart.preload mounts one on every page).
function addressInPlace() {
  if (window.__vlbAddress) return;
  window.__vlbAddress = true;
  const push = history.pushState;
  const replace = history.replaceState;
  let leaving = null;           // {href, state, at}: the page being left by a link, until its new path is pushed
  document.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!a) return;
    let to = null;
    try { to = new URL(a.href, location.href); } catch (err) { return; }
    if (to.origin === location.origin && to.pathname !== location.pathname)
      leaving = {href: location.href, state: history.state, at: Date.now()};
  }, true);
  history.pushState = function (state, unused, url) {
    let next = null;
    if (url !== undefined && url !== null) {
      try { next = new URL(url, location.href); } catch (err) { /* not an address: as Streamlit asked */ }
    }
    if (next && next.origin === location.origin && next.pathname === location.pathname)
      return replace.call(history, state, unused, url);
    if (next && leaving && Date.now() - leaving.at < 10000 && new URL(leaving.href).pathname === location.pathname)
      replace.call(history, leaving.state, '', leaving.href);
    leaving = null;
    return push.call(history, state, unused, url);
  };
}

export function mount({ data, parentElement, setTriggerValue }, urls) {
  addressInPlace();
  PLOTLY_URL = urls.plotly;
  THEME_URL = urls.theme;
  if (!window.__vlbPrint) { window.__vlbPrint = true; window.addEventListener('beforeprint', drawAllPending); }
  const figure = figureOf(data);
  if (figure.preload) {                     // pages/_chart.preload: fetch now, draw nothing
    plotly().catch(() => {});
    themes().catch(() => {});
    return;
  }
  const spec = figure.spec || {};
  const layout = Object.assign({}, spec.layout || {});
  delete layout.width;                      // the column's width, as plotly measures it
  const height = layout.height || 450;
  let gd = parentElement.querySelector(':scope > div.vlb-chart');
  if (!gd) {
    gd = document.createElement('div');
    gd.className = 'vlb-chart';
    gd.dataset.testid = 'vlbChart';
    parentElement.appendChild(gd);
    // Not while it is hidden or leaving the page (Back to another page): plotly refuses to size a plot that is
    // not displayed, with an error in the console.
    gd.__vlbResize = new ResizeObserver(() => {
      const P = window.Plotly;
      if (P && gd._fullLayout && !document.fullscreenElement && gd.offsetParent !== null && gd.clientWidth > 0
          && Math.abs(gd._fullLayout.width - gd.clientWidth) > 1)
        Promise.resolve(P.Plots.resize(gd)).catch(() => {});
    });
    gd.__vlbResize.observe(gd);
    gd.__vlbSeen = true;                    // until the observer says otherwise
    gd.__vlbView = new IntersectionObserver((entries) => {
      gd.__vlbSeen = entries[entries.length - 1].isIntersecting;
      if (gd.__vlbSeen) drawPending(gd);
    }, {rootMargin: '100px 0px'});
    gd.__vlbView.observe(gd);
    // Drawn for one theme while the page shows the other (switched since the server styled it): ask the
    // server once per switch for a rerun, which styles the charts for the theme the page now has.
    gd.__vlbCheckTheme = () => {
      const live = gd.__vlbTheme ? liveTheme(parentElement) : null;
      if (live && live !== gd.__vlbTheme && gd.__vlbAsked !== live) { gd.__vlbAsked = live; gd.__vlbAsk(live); }
    };
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    gd.__vlbMedia = () => setTimeout(gd.__vlbCheckTheme, 300);  // a system switch: Streamlit repaints first
    media.addEventListener('change', gd.__vlbMedia);
    gd.__vlbMediaQuery = media;
    gd.addEventListener('fullscreenchange', () => fullscreenSize(gd, document.fullscreenElement === gd));
  }
  gd.__vlbHeight = height;
  gd.__vlbTheme = figure.template || null;   // the theme the server styled it in
  gd.__vlbAsk = (live) => setTriggerValue('theme', live);
  gd.style.minHeight = height + 'px';       // the room is kept while plotly.js loads
  if (figure.alt) { gd.setAttribute('role', 'figure'); gd.setAttribute('aria-label', figure.alt); }
  else { gd.removeAttribute('role'); gd.removeAttribute('aria-label'); }
  const config = Object.assign({}, figure.config || {});
  const labels = figure.labels || {};
  // one button object per plot: Plotly.react compares configs, and a new click function would count as a
  // new config, which redraws the whole plot instead of updating it
  const title = labels.fullscreen || 'Full screen';
  if (!gd.__vlbButton || gd.__vlbButton.title !== title) {
    gd.__vlbButton = {name: 'fullscreen', title, icon: FULLSCREEN,
      click: () => (document.fullscreenElement === gd ? document.exitFullscreen() : gd.requestFullscreen())};
  }
  config.modeBarButtonsToAdd = [gd.__vlbButton, ...(config.modeBarButtonsToAdd || [])];
  // A screen without hover (a phone, a tablet): plotly then shows its mode bar all the time, and on a chart
  // 350 px wide it sits over the title and the legend. There the charts go without it, as plotly decides
  // hover itself (its has-hover: matchMedia '(hover: none)'); pinching the page and the sidebar's Export stay.
  if (!('displayModeBar' in config) && window.matchMedia('(hover: none)').matches) config.displayModeBar = false;
  if (document.fullscreenElement === gd) { layout.width = window.innerWidth; layout.height = window.innerHeight; }
  const token = (gd.__vlbToken || 0) + 1;
  gd.__vlbToken = token;
  const draw = () => Promise.all([plotly(), figure.template ? themes() : null]).then(
    ([P, theme]) => {
      if (gd.__vlbToken !== token) return;  // a newer figure arrived while plotly.js loaded
      if (figure.template) {                // the theme the server styled the figure in, by name
        layout.template = Object.assign({}, layout.template, {layout: theme[figure.template]});
      }
      gd.style.background = layout.paper_bgcolor || (layout.template && layout.template.layout
                             && layout.template.layout.paper_bgcolor) || '';
      const frames = spec.frames || [];
      // the same data, frames, config and theme as the plot drawn: move its shapes, if that is all that changed
      const key = [figure.datakey, JSON.stringify(figure.config || {}), figure.template, JSON.stringify(labels)].join('|');
      const same = figure.datakey && gd._fullLayout && gd.__vlbKey === key && gd.__vlbLayout && !document.fullscreenElement;
      const parts = layoutParts(spec.layout || {});
      const shapes = same ? shapesOnly(gd, gd.__vlbLayout, parts) : null;
      gd.__vlbKey = key;
      gd.__vlbLayout = parts;
      stopAnimation(gd);
      if (shapes) {
        gd.__vlbMoves = (gd.__vlbMoves || 0) + 1;   // read by tests/test_browser_chart.py
        return P.relayout(gd, {shapes}).then(() => { setTimeout(gd.__vlbCheckTheme, 0); });
      }
      return P.react(gd, {data: spec.data || [], layout, frames, config}).then(() => {
        // plotly.js 4 drops the frames when nothing else in the figure changed: add them back
        const have = (gd._transitionData && gd._transitionData._frames) || [];
        setTimeout(gd.__vlbCheckTheme, 0);   // after the draw: reading the theme makes the browser restyle
        if (frames.length && have.length !== frames.length) return P.addFrames(gd, frames);
      });
    },
    (err) => { gd.textContent = (labels.failed || 'The chart could not be drawn: reload the page.') + ' (' + err.message + ')'; });
  // A chart drawn before and now off the screen (below the fold, in a closed expander) is updated when it
  // comes into view, not on every move of a slider above it: the charts in view redraw sooner, and a page of
  // four charts on a phone redraws one. Only the newest figure is kept; a first draw is never put off.
  if (gd._fullLayout && gd.__vlbSeen === false && !document.fullscreenElement) gd.__vlbPending = draw;
  else { gd.__vlbPending = null; draw(); }
  return () => {
    // Streamlit calls this when the element goes; a stale render may call it while the element stays
    setTimeout(() => {
      if (gd.isConnected) return;
      gd.__vlbResize.disconnect();
      gd.__vlbView.disconnect();
      gd.__vlbMediaQuery.removeEventListener('change', gd.__vlbMedia);
      stopAnimation(gd);
      if (window.Plotly) window.Plotly.purge(gd);
    }, 0);
  };
}
