// Drawing the skeleton the server found onto the overlay canvas (frame pixel coordinates).
const COLORS = { left: "#3b82f6", right: "#f97316", center: "#22c55e" };
const MIN_SCORE = 0.3;

export function clear(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

export function drawSkeleton(canvas, skeleton, result) {
  if (canvas.width !== result.width || canvas.height !== result.height) {
    canvas.width = result.width;
    canvas.height = result.height;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const line = Math.max(2, Math.round(canvas.width / 200));
  ctx.lineCap = "round";
  for (const person of result.people) {
    const kp = person.keypoints;
    const seen = (i) => kp[i][2] >= MIN_SCORE && kp[i][0] >= 0;
    ctx.lineWidth = line;
    for (const [a, b] of skeleton.limbs) {
      if (!seen(a) || !seen(b)) continue;
      const side = skeleton.sides[a] === skeleton.sides[b] ? skeleton.sides[a] : "center";
      ctx.strokeStyle = COLORS[side];
      ctx.beginPath();
      ctx.moveTo(kp[a][0], kp[a][1]);
      ctx.lineTo(kp[b][0], kp[b][1]);
      ctx.stroke();
    }
    for (let i = 0; i < kp.length; i++) {
      if (!seen(i)) continue;
      ctx.fillStyle = COLORS[skeleton.sides[i]];
      ctx.beginPath();
      ctx.arc(kp[i][0], kp[i][1], line * 1.2, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}
