import { pilResize, centerCropArr } from '../dist/src/data/center-crop.js';
const w=500,h=375; const img={width:w,height:h,data:Uint8Array.from({length:w*h*3},(_, i)=>(i*7919)%251)};
for (let r=0;r<3;r++){
 let t=performance.now(); for (let i=0;i<20;i++) pilResize(img,341,375,'bicubic'); const hz=(performance.now()-t)/20;
 t=performance.now(); for (let i=0;i<20;i++) pilResize(img,500,256,'bicubic'); const vt=(performance.now()-t)/20;
 t=performance.now(); for (let i=0;i<20;i++) centerCropArr(img,256); const cc=(performance.now()-t)/20;
 console.log('horizontal', hz.toFixed(1), 'vertical', vt.toFixed(1), 'center_crop_arr', cc.toFixed(1), 'ms');
}
