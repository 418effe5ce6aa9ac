function crashPoint(step){process.env.CLAUDE_PARALLEL_CRASH_AT===step&&process.kill(process.pid,"SIGKILL")}export{crashPoint};
