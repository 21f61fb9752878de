import { mount } from 'svelte';
import App from './App.svelte';
import EmbedApp from './EmbedApp.svelte';
import { isEmbedded } from './lib/embed.ts';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

// ?embed=1: the compact page a course page shows in an <iframe> (web/lib/embed.ts).
export default isEmbedded ? mount(EmbedApp, { target }) : mount(App, { target });
