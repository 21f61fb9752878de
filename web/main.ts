import { mount } from 'svelte';
import App from './App.svelte';
import EmbedApp from './EmbedApp.svelte';
import GraphPage from './GraphPage.svelte';
import { isEmbedded } from './lib/embed.ts';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

// ?embed=1: the compact page a course page shows in an <iframe> (web/lib/embed.ts); ?graph=<scenario>: the
// patterns page (issue 11), a graph of sockets of any type.
const isGraphPage = !isEmbedded && new URLSearchParams(location.search).has('graph');
export default isEmbedded
  ? mount(EmbedApp, { target })
  : isGraphPage
    ? mount(GraphPage, { target })
    : mount(App, { target });
